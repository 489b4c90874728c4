"""QR codes, made here with segno (no third-party service sees the code): the booking
code for the kiosk's scanner at the entrance, as a PNG in the mail and inline SVG on
the confirmation page. The payload is the booking code itself, so a scanner that
types what it reads fills the kiosk's code field."""
from __future__ import annotations

import re
import struct
import zlib

import segno
from markupsafe import Markup

CID = "checkin-qr"
# The HTML of a mail marks where its QR code goes and what it says.
MARK = re.compile(r'<img src="cid:checkin-qr" data-qr="([A-Z0-9-]{1,40})"')


def png(payload: str, *, scale: int = 6, border: int = 4) -> bytes:
    """The code as a black-on-white 1-bit PNG. Written here from segno's module matrix: its
    generic PNG writer took a third of a mail's QR cost (segno still chooses the mask)."""
    return _png_of(segno.make(payload, error="m", micro=False).matrix, scale, border)


def _png_of(matrix, scale: int, border: int) -> bytes:
    width = (len(matrix[0]) + 2 * border) * scale
    pad = -width % 8
    # A module (0 light, 1 dark) as `scale` pixel bits; 1 is white in 1-bit grayscale.
    pixels = {0: "1" * scale, 1: "0" * scale}
    light = bytes(len(matrix[0]) + 2 * border)
    quiet = bytes(border)
    rows = []
    for modules in (quiet + bytes(row) + quiet for row in matrix):
        bits = modules.decode("latin-1").translate(pixels) + "1" * pad
        rows.extend([b"\0" + int(bits, 2).to_bytes((width + pad) // 8, "big")] * scale)
    blank = b"\0" + int(light.decode("latin-1").translate(pixels) + "1" * pad, 2).to_bytes((width + pad) // 8, "big")
    rows = [blank] * (border * scale) + rows + [blank] * (border * scale)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def svg(payload: str, *, title: str) -> Markup:
    """Inline SVG with a text alternative (role img, aria-label)."""
    code = segno.make(payload, error="m", micro=False).svg_inline(scale=5, border=4, omitsize=False, svgclass="qr", light="#fff",
                                                                  title=title)
    return Markup(code.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1))


def payload_of(html: str) -> str | None:
    m = MARK.search(html or "")
    return m.group(1) if m else None
