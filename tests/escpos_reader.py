"""A small ESC/POS reader for tests: finds the printed text, sizes, QR codes, images and cuts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Printout:
    """What a stream of ESC/POS bytes would put on paper."""

    lines: list[tuple[str, int]] = field(default_factory=list)  # (text, width multiplier)
    qr_codes: list[str] = field(default_factory=list)
    images: int = 0
    cuts: int = 0
    status_queries: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line for line, _ in self.lines)

    def widest(self) -> int:
        """The widest line in Font A columns."""
        return max((len(line) * size for line, size in self.lines), default=0)


def read_escpos(data: bytes) -> Printout:
    """Parse the commands python-escpos emits for our tickets; unknown commands fail loudly."""
    out = Printout()
    buf = bytearray()
    size = 1
    i = 0

    def flush() -> None:
        out.lines.append((buf.decode("cp437"), size))
        buf.clear()

    while i < len(data):
        b = data[i]
        if b == 0x0A:  # LF
            flush()
            i += 1
        elif b == 0x1B:  # ESC
            cmd = data[i + 1]
            if cmd == 0x40:  # ESC @ init
                i += 2
            elif cmd == 0x21:  # ESC ! n: print mode, n=0 normal
                size = 1 if data[i + 2] == 0 else size
                i += 3
            elif cmd in (0x45, 0x61, 0x2D, 0x4D, 0x7B, 0x74, 0x47, 0x56):  # bold, align, underline, font, ...
                i += 3
            elif cmd == 0x64:  # ESC d n: print and feed n lines
                if buf:
                    flush()
                out.lines.extend([("", 1)] * data[i + 2])
                i += 3
            else:
                raise ValueError(f"unknown ESC command 0x{cmd:02x} at {i}")
        elif b == 0x1D:  # GS
            cmd = data[i + 1]
            if cmd == 0x21:  # GS ! n: character size
                n = data[i + 2]
                size = (n >> 4) + 1
                i += 3
            elif cmd == 0x56:  # GS V m [n]: cut
                out.cuts += 1
                i += 4 if data[i + 2] in (0x41, 0x42, 65, 66) else 3
            elif cmd == 0x28 and data[i + 2] == 0x6B:  # GS ( k: 2D code
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5:i + 5 + length]
                if body[0] == 0x31 and body[1] == 0x50:  # store QR data
                    out.qr_codes.append(body[3:].decode("utf-8"))
                i += 5 + length
            elif cmd == 0x76 and data[i + 2] == 0x30:  # GS v 0: raster image
                width_bytes = data[i + 4] + 256 * data[i + 5]
                height = data[i + 6] + 256 * data[i + 7]
                out.images += 1
                i += 8 + width_bytes * height
            elif cmd == 0x28 and data[i + 2] == 0x4C:  # GS ( L: graphics
                length = data[i + 3] + 256 * data[i + 4]
                i += 5 + length
            elif cmd in (0x48, 0x66, 0x68, 0x77, 0x42, 0x62):
                i += 3
            else:
                raise ValueError(f"unknown GS command 0x{cmd:02x} at {i}")
        elif b == 0x10 and data[i + 1] == 0x04:  # DLE EOT n: status query
            out.status_queries += 1
            i += 3
        else:
            buf.append(b)
            i += 1
    if buf:
        flush()
    return out
