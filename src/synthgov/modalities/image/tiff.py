"""TIFF: XMP in IFD0 tag 700 (0x02BC), type UNDEFINED.

Written by appending: the XMP bytes and a copy of IFD0 (with tag 700 set) go at the end of the
file and the header points at the new IFD0. Every existing offset stays valid and the image data
is not touched. Hand-written; no library edits TIFF tags without rewriting the image.
"""

from __future__ import annotations

import struct

from synthgov.errors import CorruptMedia, UnsupportedMedia
from synthgov.modalities.image.formats import Scan

XMP_TAG = 700
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
MAX_ENTRIES = 4096
MAX_PAGES = 100_000


def _header(data: bytes) -> tuple[str, int]:
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        raise UnsupportedMedia("BigTIFF is not supported")
    if data[:4] not in (b"II*\x00", b"MM\x00*") or len(data) < 8:
        raise CorruptMedia("not a TIFF file")
    bo = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(bo + "I", data[4:8])
    return bo, ifd


def _ifd(data: bytes, bo: str, offset: int) -> tuple[list[tuple[int, int, int, bytes]], int]:
    if offset + 2 > len(data) or offset < 8:
        raise CorruptMedia("TIFF is truncated (IFD offset past the end)")
    (count,) = struct.unpack(bo + "H", data[offset : offset + 2])
    if count > MAX_ENTRIES or offset + 2 + 12 * count + 4 > len(data):
        raise CorruptMedia("TIFF is truncated or corrupt (IFD runs past the end)")
    entries = []
    for i in range(count):
        raw = data[offset + 2 + 12 * i : offset + 14 + 12 * i]
        tag, typ, n = struct.unpack(bo + "HHI", raw[:8])
        entries.append((tag, typ, n, raw))
    (next_ifd,) = struct.unpack(bo + "I", data[offset + 2 + 12 * count : offset + 6 + 12 * count])
    return entries, next_ifd


def _values(data: bytes, bo: str, typ: int, n: int, raw: bytes) -> bytes:
    size = TYPE_SIZES.get(typ, 1) * n
    if size <= 4:
        return raw[8 : 8 + size]
    (off,) = struct.unpack(bo + "I", raw[8:12])
    if off + size > len(data):
        raise CorruptMedia("TIFF is truncated (a tag value lies past the end)")
    return data[off : off + size]


def _ints(data: bytes, bo: str, typ: int, n: int, raw: bytes) -> list[int]:
    fmt = {3: "H", 4: "I", 16: "Q"}.get(typ)
    if fmt is None:
        return []
    return list(struct.unpack(bo + fmt * n, _values(data, bo, typ, n, raw)))


def _check_image_data(data: bytes, bo: str, entries) -> None:
    for _tag, typ, n, raw in entries:
        _values(data, bo, typ, n, raw)  # every out-of-line value must lie inside the file
    by_tag = {e[0]: e for e in entries}
    for off_tag, len_tag in ((273, 279), (324, 325)):
        if off_tag in by_tag and len_tag in by_tag:
            offs = _ints(data, bo, *by_tag[off_tag][1:])
            lens = _ints(data, bo, *by_tag[len_tag][1:])
            if any(o + c > len(data) for o, c in zip(offs, lens, strict=False)):
                raise CorruptMedia("TIFF is truncated (image data runs past the end of the file)")


def scan(data: bytes, lenient: bool = False) -> Scan:
    bo, offset = _header(data)
    result = Scan(xmp_location="XMP TC260:AIGC in TIFF IFD0 tag 700", lenient=lenient)
    try:
        entries, _ = _ifd(data, bo, offset)
    except CorruptMedia as exc:
        result.broken(str(exc))
        return result
    try:
        _check_image_data(data, bo, entries)
    except CorruptMedia as exc:
        result.broken(str(exc))
    for tag, typ, n, raw in entries:
        try:
            if tag == XMP_TAG:
                result.xmp.append(_values(data, bo, typ, n, raw))
            elif tag in (256, 257) and n == 1 and typ in (3, 4):
                value = _ints(data, bo, typ, n, raw)[0]
                if tag == 256:
                    result.width = value
                else:
                    result.height = value
        except CorruptMedia as exc:
            result.broken(str(exc))
    if result.width is None or result.height is None:
        result.broken("TIFF has no image width or length")
    result.exif = data  # the TIFF is its own EXIF structure; Pillow reads UserComment from it
    result.metadata_bytes = sum(len(x) for x in result.xmp)
    try:
        result.frame_sizes = _pages(data, bo, offset)
    except CorruptMedia as exc:
        result.broken(str(exc))
    result.frames = max(1, len(result.frame_sizes))
    result.parts = len(entries)
    return result


def _pages(data: bytes, bo: str, offset: int) -> list[tuple[int, int]]:
    """(width, height) of every page along the IFD chain, checked before anything is decoded (a
    second page could otherwise declare any size); a chain that loops is corrupt."""
    sizes: list[tuple[int, int]] = []
    seen: set[int] = set()
    while offset:
        if offset in seen or len(seen) >= MAX_PAGES:
            raise CorruptMedia("TIFF page chain loops or has more than 100000 pages")
        seen.add(offset)
        entries, offset = _ifd(data, bo, offset)
        dims = {tag: _ints(data, bo, typ, n, raw) for tag, typ, n, raw in entries
                if tag in (256, 257) and n == 1 and typ in (3, 4)}
        if not dims.get(256) or not dims.get(257):
            raise CorruptMedia(f"TIFF page {len(sizes) + 1} has no image width or length")
        sizes.append((dims[256][0], dims[257][0]))
    return sizes


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    if exif is not None:
        raise UnsupportedMedia("replacing an EXIF UserComment label inside a TIFF is not supported")
    bo, offset = _header(data)
    entries, next_ifd = _ifd(data, bo, offset)
    _check_image_data(data, bo, entries)
    out = bytearray(data)
    if len(out) & 1:
        out += b"\x00"
    xmp_at = len(out)
    out += packet
    if len(out) & 1:
        out += b"\x00"
    ifd_at = len(out)
    new_entry = struct.pack(bo + "HHII", XMP_TAG, 7, len(packet), xmp_at)
    kept = [raw for tag, _, _, raw in entries if tag != XMP_TAG] + [new_entry]
    kept.sort(key=lambda raw: struct.unpack(bo + "H", raw[:2])[0])
    out += struct.pack(bo + "H", len(kept)) + b"".join(kept) + struct.pack(bo + "I", next_ifd)
    out[4:8] = struct.pack(bo + "I", ifd_at)
    return bytes(out)
