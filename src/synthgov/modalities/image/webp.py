"""WebP: XMP in a RIFF ``XMP `` chunk with the VP8X XMP flag (0x04) set.

Simple files (a lone VP8 or VP8L chunk) are turned into extended ones: a VP8X header with the
canvas size read from the bitstream header, and the alpha flag from VP8L's alpha hint.
Hand-written RIFF walker; see jpeg.py for why.
"""

from __future__ import annotations

import struct

from synthgov.errors import CorruptMedia
from synthgov.modalities.image.formats import Broken, Scan, StrayXmp, strict, trailing_chunks

XMP_FLAG, EXIF_FLAG, ALPHA_FLAG = 0x04, 0x08, 0x10
BEYOND = 256  # chunks read after the RIFF end at most (a trailer of tiny chunks is not worth a long walk)


def chunks(data: bytes, broken: Broken = strict) -> list[tuple[bytes, bytes]]:
    """The RIFF chunks; ``broken`` meets damage (see png.chunks)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        strict("not a WebP file")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end_all = riff_size + 8
    if end_all > len(data):
        broken("WebP is truncated (RIFF size exceeds the file)")
        end_all = len(data)
    out = _walk(data, 12, end_all, broken)
    if not out or out[0][0] not in (b"VP8 ", b"VP8L", b"VP8X"):
        broken("WebP has no image chunk")
    return out


def _walk(data: bytes, pos: int, end_all: int, broken: Broken) -> list[tuple[bytes, bytes]]:
    out = []
    while pos < end_all:
        if pos + 8 > end_all:
            broken("WebP is truncated inside a chunk header")
            break
        fourcc, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > end_all:
            broken(f"WebP is truncated inside the {fourcc.decode('latin-1')!r} chunk")
            break
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def _beyond(data: bytes) -> list[tuple[bytes, bytes]]:
    """Whole chunks after the end the RIFF size gives (a writer that appended a chunk without
    updating the size): what a lenient walk still reads. Trailing bytes that are not chunks are
    left alone."""
    pos = struct.unpack("<I", data[4:8])[0] + 8
    pos += pos & 1
    out: list[tuple[bytes, bytes]] = []
    while pos + 8 <= len(data) and len(out) < BEYOND:
        fourcc, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if not all(0x20 <= c < 0x7F for c in fourcc) or pos + 8 + size > len(data):
            break
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def scan(data: bytes, lenient: bool = False) -> Scan:
    result = Scan(xmp_location="XMP TC260:AIGC in WebP 'XMP ' chunk", lenient=lenient)
    parts = chunks(data, result.broken)
    if not parts:
        return result
    first, head = parts[0]
    has_flag = first == b"VP8X" and len(head) >= 1 and head[0] & XMP_FLAG
    if first == b"VP8X":
        if len(head) < 10:
            result.broken("WebP VP8X chunk is too short")
        else:
            result.width = int.from_bytes(head[4:7], "little") + 1
            result.height = int.from_bytes(head[7:10], "little") + 1
    elif first in (b"VP8 ", b"VP8L"):
        try:
            result.width, result.height, _ = _canvas(first, head)
        except CorruptMedia as exc:
            result.broken(str(exc))
    if lenient and (after := _beyond(data)):
        result.broken(trailing_chunks("WebP", "after the end its RIFF size gives", [f for f, _ in after]))
        parts += after
    result.parts = len(parts)
    result.frames = max(1, sum(1 for fourcc, _ in parts if fourcc == b"ANMF"))
    for fourcc, body in parts:
        if fourcc in (b"XMP ", b"EXIF"):
            result.metadata_bytes += len(body)
        if fourcc == b"XMP ":
            if has_flag or not lenient:
                result.xmp.append(body)
            else:  # readers that follow the container spec (libwebp's demuxer) look for XMP only when flagged
                why = "the VP8X XMP flag is not set" if first == b"VP8X" else "a simple WebP (no VP8X header)"
                result.stray_xmp.append(StrayXmp(f"XMP TC260:AIGC in WebP 'XMP ' chunk, {why}", body,
                                                 f"'XMP ' chunk in {why}: WebP readers that follow the container "
                                                 "specification do not look for it"))
        elif fourcc == b"EXIF" and result.exif is None:
            result.exif = body[6:] if body.startswith(b"Exif\x00\x00") else body
    return result


def _canvas(fourcc: bytes, body: bytes) -> tuple[int, int, bool]:
    if fourcc == b"VP8 ":
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            raise CorruptMedia("WebP VP8 bitstream header is invalid")
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF, False
    if len(body) < 5 or body[0] != 0x2F:
        raise CorruptMedia("WebP VP8L bitstream header is invalid")
    (bits,) = struct.unpack("<I", body[1:5])
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)


def _chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    parts = [(f, b) for f, b in chunks(data) if f != b"XMP "]
    if parts[0][0] != b"VP8X":
        w, h, alpha = _canvas(*parts[0])
        flags = ALPHA_FLAG if alpha else 0
        vp8x = struct.pack("<B3x", flags) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        parts.insert(0, (b"VP8X", vp8x))
    head = bytearray(parts[0][1])
    head[0] |= XMP_FLAG
    parts[0] = (b"VP8X", bytes(head))
    if exif is not None:
        parts = [(f, (b"Exif\x00\x00" + exif if b.startswith(b"Exif\x00\x00") else exif) if f == b"EXIF" else b)
                 for f, b in parts]
    parts.append((b"XMP ", packet))
    body = b"WEBP" + b"".join(_chunk(f, b) for f, b in parts)
    return b"RIFF" + struct.pack("<I", len(body)) + body
