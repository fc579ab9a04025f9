"""GIF: XMP in an Application Extension ``XMP DataXMP`` followed by the 258-byte magic trailer.

Hand-written block walker; see jpeg.py for why. GIF87a files become GIF89a (extensions need it);
the image blocks are copied verbatim.
"""

from __future__ import annotations

import struct

from synthgov.errors import CorruptMedia
from synthgov.modalities.image.formats import Broken, Scan, StrayXmp, TextLabel, check_metadata, strict
from synthgov.modalities.image.xmp import looks_like_label

XMP_APP = b"\x21\xff\x0bXMP DataXMP"
MAGIC_TRAILER = b"\x01" + bytes(range(0xFF, -1, -1)) + b"\x00"


def _skip_subblocks(data: bytes, pos: int, broken: Broken = strict) -> int:
    n = len(data)
    while True:
        if pos >= n:
            broken("GIF is truncated inside a data block")
            return n
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def _subblocks(data: bytes, pos: int) -> tuple[bytes, int]:
    """The data of the sub-blocks from ``pos`` joined, and where they end."""
    out, n = bytearray(), len(data)
    while pos < n and data[pos]:
        out += data[pos + 1 : pos + 1 + data[pos]]
        pos += 1 + data[pos]
    return bytes(out), min(n, pos + 1)


def blocks(data: bytes, broken: Broken = strict) -> tuple[int, list[tuple[str, int, int]]]:
    """(end of header and colour table, [(kind, start, end)]) up to and including the trailer.
    ``broken`` meets damage (see png.chunks); an XMP extension without the magic trailer (its packet
    split into ordinary sub-blocks) is kind ``xmp-subblocks`` for a lenient walk."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        strict("not a GIF file")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    header_end, n = pos, len(data)
    out: list[tuple[str, int, int]] = []
    while True:
        if pos >= n:
            broken("GIF is truncated (no trailer)")
            return header_end, out
        intro = data[pos]
        if intro == 0x3B:
            out.append(("trailer", pos, pos + 1))
            return header_end, out
        start = pos
        if intro == 0x21:
            if data.startswith(XMP_APP, pos):
                tail = data.find(MAGIC_TRAILER, pos + len(XMP_APP))
                if tail < 0:
                    broken("GIF XMP extension has no magic trailer")
                    pos = _subblocks(data, pos + len(XMP_APP))[1]
                    out.append(("xmp-subblocks", start, pos))
                    continue
                out.append(("xmp", start, tail + len(MAGIC_TRAILER)))
                pos = tail + len(MAGIC_TRAILER)
                continue
            pos = _skip_subblocks(data, pos + 2, broken)
            out.append(("extension", start, pos))
        elif intro == 0x2C:
            if pos + 10 > n:
                broken("GIF is truncated inside an image descriptor")
                return header_end, out
            lflags = data[pos + 9]
            pos += 10 + (3 * (2 << (lflags & 7)) if lflags & 0x80 else 0)
            pos = _skip_subblocks(data, pos + 1, broken)  # LZW minimum code size, then data
            out.append(("image", start, pos))
        else:
            broken(f"GIF has an unknown block 0x{intro:02x} at byte {pos}")
            return header_end, out


def scan(data: bytes, lenient: bool = False) -> Scan:
    result = Scan(xmp_location="XMP TC260:AIGC in GIF application extension", lenient=lenient)
    _, parts = blocks(data, result.broken)
    result.width, result.height = struct.unpack("<HH", data[6:10])
    result.frames = max(1, sum(1 for kind, _, _ in parts if kind == "image"))
    result.parts = len(parts)
    for kind, start, end in parts:
        if kind == "xmp":
            result.xmp.append(data[start + len(XMP_APP) : end - len(MAGIC_TRAILER)])
            result.metadata_bytes += end - start
        elif kind == "xmp-subblocks":
            packet = _subblocks(data, start + len(XMP_APP))[0]
            result.metadata_bytes += len(packet)
            result.stray_xmp.append(StrayXmp("XMP in GIF application extension (sub-blocks)", packet,
                                             "GIF XMP split into data sub-blocks without the XMP magic trailer; "
                                             "readers that follow the XMP specification see a broken packet"))
        elif kind == "extension" and lenient and data[start + 1 : start + 2] == b"\xfe":  # a comment extension
            text = _subblocks(data, start + 2)[0]
            result.metadata_bytes += len(text)
            check_metadata(result.metadata_bytes)
            if looks_like_label(text.decode("latin-1")):
                result.text_labels.append(TextLabel("GIF comment extension", text.decode("utf-8", "replace"),
                                                    "label in a GIF comment extension, not in XMP (image guide)"))
    return result


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    if b"\x00" in packet:
        raise CorruptMedia("XMP packet for GIF must not contain NUL bytes")
    header_end, parts = blocks(data)
    header = b"GIF89a" + data[6:header_end]
    body = b"".join(data[s:e] for kind, s, e in parts if kind != "xmp")
    return header + XMP_APP + packet + MAGIC_TRAILER + body
