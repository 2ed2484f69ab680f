"""The layout as a PNG of the paper, drawn cell by cell like the printer's Font A."""

from __future__ import annotations

import io
from functools import cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printers.layout import QR, Cut, Element, Feed, Paper, Rule, Text

LINE_DOTS = 24  # Font A is 12x24 dots


@cache
def _font(size_px: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size_px)


def preview_png(layout: list[Element], paper: Paper) -> bytes:
    """A PNG as wide as the paper's printable dots."""
    cell = paper.width_px / paper.columns
    parts: list[Image.Image] = []
    for element in layout:
        if isinstance(element, Text):
            height = LINE_DOTS * element.size
            img = Image.new("L", (paper.width_px, height), 255)
            draw = ImageDraw.Draw(img)
            font = _font(int(20 * element.size), element.bold)
            step = cell * element.size
            used = len(element.text) * step
            x0 = {"left": 0, "center": (paper.width_px - used) / 2, "right": paper.width_px - used}[element.align]
            for i, ch in enumerate(element.text):
                x = x0 + i * step + step / 2
                draw.text((x, height / 2), ch, fill=0, font=font, anchor="mm",
                          stroke_width=1 if element.bold else 0, stroke_fill=0)
            parts.append(img)
        elif isinstance(element, Rule):
            img = Image.new("L", (paper.width_px, LINE_DOTS), 255)
            ImageDraw.Draw(img).line((0, LINE_DOTS // 2, paper.width_px, LINE_DOTS // 2), fill=0, width=2)
            parts.append(img)
        elif isinstance(element, Feed):
            parts.append(Image.new("L", (paper.width_px, LINE_DOTS * element.lines), 255))
        elif isinstance(element, QR):
            code = qrcode.QRCode(border=1, box_size=element.module_dots)
            code.add_data(element.data)
            code.make(fit=True)
            qr_img = code.make_image().get_image().convert("L")
            if qr_img.width > paper.width_px:
                qr_img = qr_img.resize((paper.width_px, paper.width_px))
            img = Image.new("L", (paper.width_px, qr_img.height + LINE_DOTS // 2), 255)
            img.paste(qr_img, ((paper.width_px - qr_img.width) // 2, 0))
            parts.append(img)
        elif isinstance(element, Cut):
            img = Image.new("L", (paper.width_px, LINE_DOTS * 2), 255)
            draw = ImageDraw.Draw(img)
            for x in range(0, paper.width_px, 12):
                draw.line((x, LINE_DOTS, x + 6, LINE_DOTS), fill=128, width=1)
            parts.append(img)
    height = sum(p.height for p in parts) + 16
    page = Image.new("L", (paper.width_px, height), 255)
    y = 8
    for part in parts:
        page.paste(part, (0, y))
        y += part.height
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()
