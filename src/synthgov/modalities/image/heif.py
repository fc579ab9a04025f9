"""AVIF and HEIF (ISO/IEC 23008-12, ISOBMFF): XMP as an item of type ``mime`` with content type
``application/rdf+xml`` in the ``meta`` box, EXIF as an ``Exif`` item (spec §10 A5).

Reading walks the ``meta`` box (``iinf``, ``iloc``, ``idat``, ``pitm``, ``iprp``) without decoding
anything. Writing needs no re-encoding: the old XMP item goes (its bytes are blanked), a new one is
stored in ``idat`` and described by ``iinf``, ``iloc`` and a ``cdsc`` reference to the primary item,
and every file offset behind the grown ``meta`` box is moved by the growth. Hand-written: libheif
and libavif (through pillow-heif and Pillow) write metadata only while encoding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from synthgov.errors import CorruptMedia, UnsupportedMedia
from synthgov.modalities.image.formats import Broken, Scan, check_metadata, strict

AVIF_BRANDS = {b"avif", b"avis"}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2"}
XMP_TYPE = b"application/rdf+xml"
MAX_ITEMS = 10_000


def brands(data: bytes) -> set[bytes]:
    """Major and compatible brands of the leading ``ftyp`` box (empty when there is none)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    size = struct.unpack(">I", data[:4])[0]
    body = data[8 : min(max(size, 16), len(data), 4096)]
    return {body[:4]} | {body[i : i + 4] for i in range(8, len(body) - 3, 4)}


def kind(prefix: bytes) -> str | None:
    """"AVIF", "HEIF" or None, from the ftyp brands (an MP4 video's ftyp is neither)."""
    found = brands(prefix)
    if found & AVIF_BRANDS:
        return "AVIF"
    if found & HEIF_BRANDS:
        return "HEIF"
    return None


@dataclass
class Box:
    type: bytes
    start: int  # of the header
    body: int  # of the payload
    end: int


def boxes(data: bytes, start: int, end: int, broken: Broken = strict) -> list[Box]:
    out: list[Box] = []
    pos = start
    while pos + 8 <= end:
        size, btype = struct.unpack(">I4s", data[pos : pos + 8])
        body = pos + 8
        if size == 1:
            if pos + 16 > end:
                broken(f"{btype.decode('latin-1')!r} box header is truncated")
                break
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            body = pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            broken(f"the {btype.decode('latin-1')!r} box runs past the end of its container (truncated)")
            out.append(Box(btype, pos, body, end))
            break
        out.append(Box(btype, pos, body, pos + size))
        pos += size
        if len(out) > MAX_ITEMS:
            strict("too many boxes")
    return out


@dataclass
class Extent:
    index: int
    offset: int
    length: int


@dataclass
class Location:
    item: int
    method: int  # 0: file offset, 1: idat, 2: another item
    reference: int
    base: int
    extents: list[Extent] = field(default_factory=list)


@dataclass
class ItemLocations:
    version: int
    offset_size: int
    length_size: int
    base_size: int
    index_size: int
    items: list[Location]


def _uint(data: bytes, pos: int, size: int) -> int:
    if size == 0:
        return 0
    if pos + size > len(data):
        raise CorruptMedia("an iloc entry runs past its box")
    return int.from_bytes(data[pos : pos + size], "big")


def parse_iloc(data: bytes, box: Box) -> ItemLocations:
    p = box.body
    version = data[p]
    if version > 2:
        raise UnsupportedMedia(f"iloc box version {version} is not supported")
    sizes = data[p + 4], data[p + 5]
    offset_size, length_size, base_size = sizes[0] >> 4, sizes[0] & 15, sizes[1] >> 4
    index_size = sizes[1] & 15 if version else 0
    if {offset_size, length_size, base_size, index_size} - {0, 4, 8}:
        raise CorruptMedia("iloc field sizes must be 0, 4 or 8 bytes")
    p += 6
    count_size = 4 if version == 2 else 2
    count, p = _uint(data, p, count_size), p + count_size
    item_bytes = count_size + (2 if version else 0) + 2 + base_size + 2  # the least one item takes
    if count > MAX_ITEMS or count * item_bytes > box.end - p:
        raise CorruptMedia(f"iloc lists {count} items, more than its box holds")
    extent_bytes = index_size + offset_size + length_size
    extents_left = MAX_ITEMS * 4  # every extent is checked against the box: a bounded walk
    items = []
    for _ in range(count):
        item, p = _uint(data, p, count_size), p + count_size
        method = 0
        if version:
            method, p = _uint(data, p, 2) & 15, p + 2
        reference, p = _uint(data, p, 2), p + 2
        base, p = _uint(data, p, base_size), p + base_size
        extents_count, p = _uint(data, p, 2), p + 2
        extents_left -= extents_count
        if extents_left < 0 or (extent_bytes == 0 and extents_count > 1) or extents_count * extent_bytes > box.end - p:
            raise CorruptMedia("iloc lists more extents than its box holds")
        loc = Location(item, method, reference, base)
        for _ in range(extents_count):
            index, p = _uint(data, p, index_size), p + index_size
            offset, p = _uint(data, p, offset_size), p + offset_size
            length, p = _uint(data, p, length_size), p + length_size
            loc.extents.append(Extent(index, offset, length))
        items.append(loc)
    if p > box.end:
        raise CorruptMedia("iloc box is truncated")
    return ItemLocations(version, offset_size, length_size, base_size, index_size, items)


def encode_iloc(locs: ItemLocations) -> bytes:
    """An iloc box (version 1, or 2 when item IDs need 32 bits) holding ``locs``."""
    version = 2 if any(loc.item > 0xFFFF for loc in locs.items) else 1
    idsize = 4 if version == 2 else 2
    if any(max(loc.item, loc.base, *(max(e.index, e.offset, e.length) for e in loc.extents)) > 0xFFFFFFFF
           for loc in locs.items):
        raise UnsupportedMedia("HEIF/AVIF offsets, lengths or item IDs beyond 32 bits are not supported")
    index_size = locs.index_size if locs.index_size in (4, 8) else 0
    body = bytearray(struct.pack(">B3xBB", version, 0x44, 0x40 | index_size))  # offsets, lengths, base: 4 bytes
    body += len(locs.items).to_bytes(idsize, "big")
    for loc in locs.items:
        body += loc.item.to_bytes(idsize, "big") + struct.pack(">HHIH", loc.method, loc.reference, loc.base,
                                                               len(loc.extents))
        for ext in loc.extents:
            if index_size:
                body += ext.index.to_bytes(index_size, "big")
            body += struct.pack(">II", ext.offset, ext.length)
    return struct.pack(">I4s", 8 + len(body), b"iloc") + bytes(body)


@dataclass
class ItemInfo:
    item: int
    type: bytes
    content_type: bytes = b""
    raw: bytes = b""  # the whole infe box


def parse_iinf(data: bytes, box: Box, broken: Broken) -> tuple[int, list[ItemInfo]]:
    version = data[box.body]
    count_size = 2 if version == 0 else 4
    start = box.body + 4 + count_size
    out = []
    for infe in boxes(data, start, box.end, broken):
        if infe.type != b"infe":
            continue
        v = data[infe.body]
        if v < 2:
            continue  # version 0/1 entries (HEIF never uses them for images)
        p = infe.body + 4
        idsize = 2 if v == 2 else 4
        item = _uint(data, p, idsize)
        p += idsize + 2
        itype = data[p : p + 4]
        p += 4
        name_end = data.find(b"\x00", p, infe.end)
        content_type = b""
        if itype == b"mime" and name_end >= 0:
            ct_end = data.find(b"\x00", name_end + 1, infe.end)
            content_type = data[name_end + 1 : ct_end if ct_end >= 0 else infe.end]
        out.append(ItemInfo(item, itype, content_type, data[infe.start : infe.end]))
    return version, out


@dataclass
class Meta:
    box: Box
    children: list[Box]
    items: list[ItemInfo]
    iinf_version: int
    locations: ItemLocations | None
    primary: int | None
    idat: Box | None

    def child(self, btype: bytes) -> Box | None:
        return next((c for c in self.children if c.type == btype), None)

    def item_data(self, data: bytes, item: int) -> bytes | None:
        loc = next((x for x in (self.locations.items if self.locations else []) if x.item == item), None)
        if loc is None:
            return None
        if loc.method == 0:
            base = loc.base
        elif loc.method == 1 and self.idat is not None:
            base = self.idat.body + loc.base
        else:
            raise UnsupportedMedia("an item stored by reference to another item is not supported")
        out = bytearray()
        for ext in loc.extents:
            start = base + ext.offset
            length = ext.length if ext.length else len(data) - start
            if start + length > len(data):
                raise CorruptMedia("an item's data lies past the end of the file (truncated)")
            check_metadata(len(out) + length)  # extents may name the same bytes again and again
            out += data[start : start + length]
        return bytes(out)


def parse_meta(data: bytes, broken: Broken) -> tuple[list[Box], Meta]:
    top = boxes(data, 0, len(data), broken)
    if not top or top[0].type != b"ftyp":
        strict("HEIF/AVIF file does not start with an ftyp box")
    meta_box = next((b for b in top if b.type == b"meta"), None)
    if meta_box is None:
        strict("HEIF/AVIF file has no meta box")
    children = boxes(data, meta_box.body + 4, meta_box.end, broken)
    found = {c.type: c for c in children}
    version, items = parse_iinf(data, found[b"iinf"], broken) if b"iinf" in found else (0, [])
    locations = parse_iloc(data, found[b"iloc"]) if b"iloc" in found else None
    primary = None
    if b"pitm" in found:
        pitm = found[b"pitm"]
        primary = _uint(data, pitm.body + 4, 2 if data[pitm.body] == 0 else 4)
    return top, Meta(meta_box, children, items, version, locations, primary, found.get(b"idat"))


def _size(data: bytes, meta: Meta) -> tuple[int | None, int | None]:
    """The primary item's displayed size: its ``ispe``, cut by a clean aperture (``clap``: HEVC codes
    even sizes) and turned by ``irot``."""
    iprp = meta.child(b"iprp")
    if iprp is None or meta.primary is None:
        return None, None
    parts = {b.type: b for b in boxes(data, iprp.body, iprp.end)}
    if b"ipco" not in parts or b"ipma" not in parts:
        return None, None
    props = boxes(data, parts[b"ipco"].body, parts[b"ipco"].end)
    ipma = parts[b"ipma"]
    version, flags = data[ipma.body], int.from_bytes(data[ipma.body + 1 : ipma.body + 4], "big")
    p = ipma.body + 4
    count, p = _uint(data, p, 4), p + 4
    mine: dict[bytes, int] = {}
    for _ in range(min(count, MAX_ITEMS)):
        idsize = 2 if version == 0 else 4
        item, p = _uint(data, p, idsize), p + idsize
        n, p = data[p], p + 1
        for _ in range(n):
            wide = flags & 1
            value, p = _uint(data, p, 2 if wide else 1), p + (2 if wide else 1)
            index = value & (0x7FFF if wide else 0x7F)
            if item == meta.primary and 0 < index <= len(props):
                mine.setdefault(props[index - 1].type, props[index - 1].body)
    if b"ispe" not in mine:
        return None, None
    width, height = _uint(data, mine[b"ispe"] + 4, 4), _uint(data, mine[b"ispe"] + 8, 4)
    if b"clap" in mine:
        wn, wd, hn, hd = struct.unpack(">IIII", data[mine[b"clap"] : mine[b"clap"] + 16])
        if wd and hd and 0 < wn // wd <= width and 0 < hn // hd <= height:
            width, height = wn // wd, hn // hd
    if b"irot" in mine and data[mine[b"irot"]] & 1:
        width, height = height, width
    return width, height


def _frames(data: bytes, top: list[Box], broken: Broken) -> int:
    """Frames of an image sequence (AVIF ``avis``, HEIF ``msf1``): the most samples any track's
    ``stsz`` counts (1 for a still image), so the limits see a sequence before anything decodes it."""
    most = 1
    for moov in (b for b in top if b.type == b"moov"):
        for trak in (b for b in boxes(data, moov.body, moov.end, broken) if b.type == b"trak"):
            path = [trak]
            for name in (b"mdia", b"minf", b"stbl", b"stsz"):
                inner = next((b for b in boxes(data, path[-1].body, path[-1].end, broken) if b.type == name), None)
                if inner is None:
                    break
                path.append(inner)
            else:
                most = max(most, _uint(data, path[-1].body + 8, 4))
    return most


def scan(data: bytes, lenient: bool = False) -> Scan:
    result = Scan(xmp_location=f"XMP TC260:AIGC in {kind(data[:64]) or 'HEIF'} mime item (application/rdf+xml)",
                  lenient=lenient)
    try:
        top, meta = parse_meta(data, result.broken)
        result.width, result.height = _size(data, meta)
        result.parts = len(top) + len(meta.children) + len(meta.items)
        try:
            result.frames = _frames(data, top, result.broken)
        except CorruptMedia as exc:  # a damaged sequence track: the still image's labels are still read
            result.broken(str(exc))
        for info in meta.items:
            payload: bytes | None = None
            if (info.type == b"mime" and info.content_type == XMP_TYPE) or info.type == b"Exif":
                try:
                    payload = meta.item_data(data, info.item)
                except CorruptMedia as exc:
                    result.broken(str(exc))
            if payload is None:
                continue
            result.metadata_bytes += len(payload)
            if info.type == b"mime":
                result.xmp.append(payload)
            elif result.exif is None and len(payload) > 4:
                skip = 4 + int.from_bytes(payload[:4], "big")
                body = payload[skip:] if skip < len(payload) else payload[4:]
                result.exif = body[6:] if body.startswith(b"Exif\x00\x00") else body
    except (IndexError, struct.error) as exc:
        result.broken(f"HEIF/AVIF box structure is corrupt: {exc}")
    if result.width is None:
        result.broken("HEIF/AVIF gives no image size (no ispe property for the primary item)")
    return result


def _infe(item: int) -> bytes:
    body = struct.pack(">B3x", 2 if item <= 0xFFFF else 3) + item.to_bytes(2 if item <= 0xFFFF else 4, "big")
    body += struct.pack(">H4s", 0, b"mime") + b"XMP\x00" + XMP_TYPE + b"\x00"
    return struct.pack(">I4s", 8 + len(body), b"infe") + body


def _iref(data: bytes, meta: Meta, removed: set[int], new_item: int) -> bytes:
    """The iref box without the references of removed items, plus ``new_item`` cdsc primary; 32-bit
    item IDs (version 1) when any ID needs them."""
    old = meta.child(b"iref")
    old_size = 2 if old is None or data[old.body] == 0 else 4
    refs: list[tuple[bytes, int, list[int]]] = []
    if old is not None:
        for ref in boxes(data, old.body + 4, old.end):
            p = ref.body
            source, count = _uint(data, p, old_size), _uint(data, p + old_size, 2)
            if old_size + 2 + count * old_size > ref.end - p:
                raise CorruptMedia("an iref reference lists more items than its box holds")
            targets = [_uint(data, p + old_size + 2 + i * old_size, old_size) for i in range(count)]
            if source not in removed:
                refs.append((ref.type, source, targets))
    if meta.primary is not None:
        refs.append((b"cdsc", new_item, [meta.primary]))
    wide = any(i > 0xFFFF for _, source, targets in refs for i in (source, *targets))
    size = 4 if wide else 2
    if any(i > 0xFFFFFFFF for _, source, targets in refs for i in (source, *targets)):
        raise UnsupportedMedia("HEIF/AVIF item IDs beyond 32 bits are not supported")
    body = bytearray()
    for rtype, source, targets in refs:
        entry = source.to_bytes(size, "big") + len(targets).to_bytes(2, "big") + b"".join(
            t.to_bytes(size, "big") for t in targets)
        body += struct.pack(">I4s", 8 + len(entry), rtype) + entry
    return struct.pack(">I4sB3x", 12 + len(body), b"iref", 1 if wide else 0) + bytes(body)


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    """``data`` with ``packet`` as its only XMP item; the coded image is not touched."""
    try:
        return _write(data, packet, exif)
    except (IndexError, struct.error) as exc:  # a box shorter than its fields: corrupt, whatever the field
        raise CorruptMedia(f"HEIF/AVIF box structure is corrupt: {exc}") from exc


def _write(data: bytes, packet: bytes, exif: bytes | None) -> bytes:
    top, meta = parse_meta(data, strict)
    if any(b.type == b"moov" for b in top):
        raise UnsupportedMedia("HEIF/AVIF image sequences (a moov track) are not labeled without re-encoding yet")
    if meta.locations is None or b"iinf" not in {c.type for c in meta.children}:
        raise CorruptMedia("HEIF/AVIF meta box has no iinf or iloc")
    removed = {i.item for i in meta.items if i.type == b"mime" and i.content_type == XMP_TYPE}
    exif_item = next((i.item for i in meta.items if i.type == b"Exif"), None) if exif is not None else None
    new_item = max([i.item for i in meta.items] + [loc.item for loc in meta.locations.items] + [0]) + 1
    out = bytearray(data)
    idat_data = bytearray(data[meta.idat.body : meta.idat.end]) if meta.idat else bytearray()
    kept_locs = []
    for loc in meta.locations.items:
        if loc.item in removed or loc.item == exif_item:  # the old label's bytes go too: update, never append
            for ext in loc.extents:
                start, target = loc.base + ext.offset, out if loc.method == 0 else idat_data
                if loc.method not in (0, 1) or start + ext.length > len(target):
                    raise CorruptMedia("an XMP or EXIF item's data lies outside the file (truncated or corrupt)")
                target[start : start + ext.length] = b" " * ext.length
            if loc.item in removed:
                continue
            loc.method, loc.base, loc.extents = 0, 0, [Extent(0, 0, 0)]  # the new EXIF, in the tail (below)
        kept_locs.append(loc)
    # the packet goes into an mdat box of its own at the end of the file, by file offset (construction
    # method 0): exiftool reads XMP items only that way
    new_loc = Location(new_item, 0, 0, 0, [Extent(0, 0, len(packet))])
    kept_locs.append(new_loc)
    old_end = meta.box.end
    entries = [i.raw for i in meta.items if i.item not in removed] + [_infe(new_item)]
    count_size = 2 if meta.iinf_version == 0 and len(entries) <= 0xFFFF else 4
    iinf_body = struct.pack(">B3x", 0 if count_size == 2 else 1) + len(entries).to_bytes(count_size, "big")
    iinf = struct.pack(">I4s", 8 + len(iinf_body) + sum(map(len, entries)), b"iinf") + iinf_body + b"".join(entries)

    def meta_bytes(locs: ItemLocations) -> bytes:
        parts = []
        for child in meta.children:
            if child.type == b"iinf":
                parts.append(iinf)
            elif child.type == b"iloc":
                parts.append(encode_iloc(locs))
            elif child.type in (b"iref", b"idat"):
                continue
            else:
                parts.append(bytes(out[child.start : child.end]))
        parts.append(_iref(data, meta, removed, new_item))
        if meta.idat is not None:
            parts.append(struct.pack(">I4s", 8 + len(idat_data), b"idat") + bytes(idat_data))
        body = bytes(data[meta.box.body : meta.box.body + 4]) + b"".join(parts)
        return struct.pack(">I4s", 8 + len(body), b"meta") + body

    locs = ItemLocations(1, 4, 4, 4, meta.locations.index_size, kept_locs)
    growth = len(meta_bytes(locs)) - (old_end - meta.box.start)  # the layout does not depend on the values
    moved = [loc for loc in kept_locs if loc.item == exif_item] + [new_loc]  # placed in the tail, below
    for loc in kept_locs:
        if loc.method != 0 or any(loc is m for m in moved):
            continue
        if loc.base:
            loc.base += growth if loc.base >= old_end else 0
        else:
            for ext in loc.extents:
                if ext.offset >= old_end:
                    ext.offset += growth
        if max([loc.base] + [ext.offset + ext.length for ext in loc.extents]) > 0xFFFFFFFF:
            raise UnsupportedMedia("HEIF/AVIF offsets beyond 4 GiB are not supported")
    payloads = ([b"\x00\x00\x00\x00" + exif] if exif_item is not None and exif is not None else []) + [packet]
    at = len(data) + growth + 8  # behind everything, in an mdat of their own
    for loc, payload in zip(moved, payloads, strict=True):
        loc.extents[0].offset, loc.extents[0].length = at, len(payload)
        at += len(payload)
    if at > 0xFFFFFFFF:
        raise UnsupportedMedia("HEIF/AVIF offsets beyond 4 GiB are not supported")
    new_meta = meta_bytes(locs)
    tail = struct.pack(">I4s", 8 + sum(map(len, payloads)), b"mdat") + b"".join(payloads)
    return bytes(out[: meta.box.start]) + new_meta + bytes(out[old_end:]) + tail
