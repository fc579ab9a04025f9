"""GIF: XMP in an Application Extension ``XMP DataXMP`` followed by the 258-byte magic trailer.

Hand-written block walker; see jpeg.py for why. GIF87a files become GIF89a (extensions need it);
the image blocks are copied verbatim.
"""

from __future__ import annotations

import struct

from synthgov.errors import CorruptMedia
from synthgov.modalities.image.formats import Scan

XMP_APP = b"\x21\xff\x0bXMP DataXMP"
MAGIC_TRAILER = b"\x01" + bytes(range(0xFF, -1, -1)) + b"\x00"


def _skip_subblocks(data: bytes, pos: int) -> int:
    n = len(data)
    while True:
        if pos >= n:
            raise CorruptMedia("GIF is truncated inside a data block")
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def blocks(data: bytes) -> tuple[int, list[tuple[str, int, int]]]:
    """(end of header and colour table, [(kind, start, end)]) up to and including the trailer."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise CorruptMedia("not a GIF file")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    header_end, out, n = pos, [], len(data)
    while True:
        if pos >= n:
            raise CorruptMedia("GIF is truncated (no trailer)")
        intro = data[pos]
        if intro == 0x3B:
            out.append(("trailer", pos, pos + 1))
            return header_end, out
        start = pos
        if intro == 0x21:
            if data.startswith(XMP_APP, pos):
                tail = data.find(MAGIC_TRAILER, pos + len(XMP_APP))
                if tail < 0:
                    raise CorruptMedia("GIF XMP extension has no magic trailer")
                out.append(("xmp", start, tail + len(MAGIC_TRAILER)))
                pos = tail + len(MAGIC_TRAILER)
                continue
            pos = _skip_subblocks(data, pos + 2)
            out.append(("extension", start, pos))
        elif intro == 0x2C:
            if pos + 10 > n:
                raise CorruptMedia("GIF is truncated inside an image descriptor")
            lflags = data[pos + 9]
            pos += 10 + (3 * (2 << (lflags & 7)) if lflags & 0x80 else 0)
            pos = _skip_subblocks(data, pos + 1)  # LZW minimum code size, then data
            out.append(("image", start, pos))
        else:
            raise CorruptMedia(f"GIF has an unknown block 0x{intro:02x} at byte {pos}")


def scan(data: bytes) -> Scan:
    _, parts = blocks(data)
    result = Scan(xmp_location="XMP TC260:AIGC in GIF application extension")
    result.width, result.height = struct.unpack("<HH", data[6:10])
    result.frames = max(1, sum(1 for kind, _, _ in parts if kind == "image"))
    result.parts = len(parts)
    for kind, start, end in parts:
        if kind == "xmp":
            result.xmp.append(data[start + len(XMP_APP) : end - len(MAGIC_TRAILER)])
            result.metadata_bytes += end - start
    return result


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    if b"\x00" in packet:
        raise CorruptMedia("XMP packet for GIF must not contain NUL bytes")
    header_end, parts = blocks(data)
    header = b"GIF89a" + data[6:header_end]
    body = b"".join(data[s:e] for kind, s, e in parts if kind != "xmp")
    return header + XMP_APP + packet + MAGIC_TRAILER + body
