"""The layout as ESC/POS bytes, built with python-escpos on a Dummy printer (no I/O)."""

from __future__ import annotations

from escpos.printer import Dummy

from printers.layout import QR, Cut, Element, Feed, Paper, Rule, Text


def escpos_bytes(layout: list[Element], paper: Paper) -> bytes:
    """Encode a ticket for a printer of this profile."""
    p = Dummy(profile=paper.profile)
    p.hw("INIT")
    for element in layout:
        if isinstance(element, Text):
            p.set(align=element.align, bold=element.bold,
                  **({"custom_size": True, "width": element.size, "height": element.size}
                     if element.size > 1 else {"normal_textsize": True}))
            p.textln(element.text)
        elif isinstance(element, Rule):
            p.set(align="left", bold=False, normal_textsize=True)
            p.textln("-" * paper.columns)
        elif isinstance(element, Feed):
            p.set(normal_textsize=True)
            p.ln(element.lines)
        elif isinstance(element, QR):
            p.set(align="center", normal_textsize=True)
            if paper.native_qr:
                p.qr(element.data, size=element.module_dots, native=True)
                p.ln()
            else:
                p.qr(element.data, size=max(2, element.module_dots // 2 + 1), native=False, center=True)
        elif isinstance(element, Cut):
            p.set(align="left", bold=False, normal_textsize=True)
            if paper.cutter:
                p.cut()
            else:
                p.print_and_feed(6)  # no cutter: feed the ticket out to tear it off
    return bytes(p.output)
