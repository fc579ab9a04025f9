"""PNG: XMP in an uncompressed ``iTXt`` chunk keyword ``XML:com.adobe.xmp``; Annex B ``tEXt`` ``AIGC``.

Hand-written chunk walker (CRCs checked, pixels copied verbatim); see jpeg.py for why.
"""

from __future__ import annotations

import struct
import zlib

from synthgov.errors import CorruptMedia, HostileInput
from synthgov.modalities.image.formats import (
    Broken,
    Scan,
    StrayXmp,
    TextLabel,
    check_metadata,
    strict,
    trailing_chunks,
)

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
LABEL_KEYWORD = b"AIGC"
RAW_PROFILE = b"Raw profile type "  # hex profiles in text chunks (ImageMagick's convention; exiv2 writes EXIF so)
AFTER_IEND = 256  # chunks read after IEND at most (a trailer of tiny chunks is not worth a long walk)
MAX_TEXT = 4 * 1024 * 1024  # decompressed text chunk limit (zTXt/iTXt bombs)


def chunks(data: bytes, broken: Broken = strict) -> list[tuple[bytes, bytes, int, int]]:
    """(type, body, start, end) of every chunk up to IEND, CRCs checked. ``broken`` meets damage:
    the default refuses the file; a lenient walk's keeps a chunk with a bad CRC, a missing or late
    IHDR, and stops at a truncation with what came before."""
    if not data.startswith(SIGNATURE):
        strict("not a PNG file (bad signature)")
    pos, n = 8, len(data)
    out: list[tuple[bytes, bytes, int, int]] = []
    while True:
        if pos + 8 > n:
            broken("PNG is truncated (no IEND chunk)")
            return out
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        name = ctype.decode("latin-1")
        if end > n:
            broken(f"PNG is truncated inside a {name!r} chunk")
            return out
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : end])
        if zlib.crc32(ctype + body) != crc:
            broken(f"PNG chunk {name!r} at byte {pos} has a bad CRC (corrupt file)")
        out.append((ctype, body, pos, end))
        pos = end
        if ctype == b"IEND":
            if not any(c == b"IHDR" for c, _, _, _ in out):
                broken("PNG has no IHDR chunk (the image size is unknown)")
            return out
        if out[0][0] != b"IHDR":
            broken(f"PNG does not start with an IHDR chunk (it starts with {out[0][0].decode('latin-1')!r})")


def _after_iend(data: bytes, pos: int) -> list[tuple[bytes, bytes, int, int]]:
    """Whole chunks after IEND (a writer that appended a text chunk to a finished file; exiftool
    reads them as a trailer): what a lenient walk still reads. Bytes that are not chunks (a type
    of four letters, a length that fits, a matching CRC) end the walk."""
    out: list[tuple[bytes, bytes, int, int]] = []
    while pos + 12 <= len(data) and len(out) < AFTER_IEND:
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if not ctype.isalpha() or end > len(data):
            break
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(ctype + body) != struct.unpack(">I", data[end - 4 : end])[0]:
            break
        out.append((ctype, body, pos, end))
        pos = end
    return out


def _inflate(payload: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(payload, MAX_TEXT)
    except zlib.error as exc:
        raise CorruptMedia(f"PNG text chunk does not decompress: {exc}") from exc
    if inflater.unconsumed_tail:
        raise HostileInput(f"PNG text chunk inflates beyond {MAX_TEXT} bytes (decompression bomb); refused")
    return text


def _itxt(body: bytes) -> tuple[bytes, bytes, bool]:
    """(keyword, text bytes, was_compressed) of an iTXt chunk."""
    try:
        keyword, rest = body.split(b"\x00", 1)
        flag, method = rest[0], rest[1]
        _lang, rest = rest[2:].split(b"\x00", 1)
        _translated, text = rest.split(b"\x00", 1)
    except (ValueError, IndexError) as exc:
        raise CorruptMedia("malformed PNG iTXt chunk") from exc
    if flag:
        if method != 0:
            raise CorruptMedia("PNG iTXt chunk uses an unknown compression method")
        text = _inflate(text)
    return keyword, text, bool(flag)


def _stray(result: Scan, chunk: str, keyword: bytes, text: bytes) -> None:
    """A label-looking value under another keyword (a vendor's ``Description`` holding
    ``{"AIGC":…}``): read, with its place named."""
    if b"AIGC" in text or b'"ContentProducer"' in text:
        where = f"PNG {chunk} {keyword.decode('latin-1')!r}"
        result.text_labels.append(TextLabel(where, text.decode("utf-8", "replace"), f"label in {where}, not in XMP "
                                            "or a tEXt 'AIGC' chunk (image guide Annex B)"))


def _raw_profile(result: Scan, chunk: str, keyword: bytes, text: bytes) -> None:
    """A raw profile (``"\\n<name>\\n<length>\\n<hex, 72 digits a line>\\n"``): ImageMagick keeps a
    JPEG's XMP and EXIF this way when it writes a PNG (so a label copied by a conversion lands here),
    and exiv2 writes a PNG's EXIF so. Its XMP is read as a stray packet, its EXIF where no eXIf chunk
    gave one; exiftool reads both. (Hand-written: no library reads this convention.)"""
    kind = keyword[len(RAW_PROFILE):].strip().lower()
    if kind not in (b"xmp", b"exif", b"app1"):
        return
    fields = text.split(None, 2)
    where = f"PNG {chunk} {keyword.decode('latin-1')!r}"
    try:
        declared = int(fields[1])
        profile = bytes.fromhex(fields[2].decode("ascii"))
    except (IndexError, ValueError, UnicodeDecodeError):
        result.broken(f"{where} is not an ImageMagick raw profile (name, length and hex digits)")
        return
    if declared != len(profile):
        result.broken(f"{where} says {declared} bytes but holds {len(profile)}")
    if kind == b"xmp":
        result.stray_xmp.append(StrayXmp(f"XMP in {where} (raw profile)", profile,
                                         "label in a raw XMP profile (ImageMagick's hex text chunk); the image "
                                         "guide places XMP in an uncompressed iTXt 'XML:com.adobe.xmp' chunk"))
    elif result.exif is None:
        tiff = profile.removeprefix(b"Exif\x00\x00")
        if tiff[:4] in (b"II*\x00", b"MM\x00*"):
            result.exif = tiff
            result.exif_place = (f"{where} (raw profile)", "label in a raw EXIF profile (the hex text chunk of "
                                 "ImageMagick and exiv2); the image guide places a PNG's label in XMP or a tEXt "
                                 "'AIGC' chunk")


def scan(data: bytes, lenient: bool = False) -> Scan:
    result = Scan(xmp_location="XMP TC260:AIGC in PNG iTXt XML:com.adobe.xmp", lenient=lenient)
    found = chunks(data, result.broken)
    if lenient and found and found[-1][0] == b"IEND" and (after := _after_iend(data, found[-1][3])):
        result.broken(trailing_chunks("PNG", "after IEND", [c for c, _, _, _ in after]))
        found += after
    result.parts = len(found)
    for ctype, body, _, _ in found:
        try:
            _chunk_into(result, ctype, body)
        except CorruptMedia as exc:  # one malformed text chunk: a lenient walk goes on without it
            result.broken(str(exc))
    if result.width is None and lenient and not result.damage:
        result.broken("PNG has no IHDR chunk (the image size is unknown)")
    return result


def _chunk_into(result: Scan, ctype: bytes, body: bytes) -> None:
    lenient = result.lenient
    if ctype in (b"iTXt", b"tEXt", b"zTXt", b"eXIf"):
        result.metadata_bytes += len(body)
        check_metadata(result.metadata_bytes)  # before inflating the next one
    if ctype == b"acTL" and len(body) == 8:
        result.frames = max(1, struct.unpack(">I", body[:4])[0])
    if ctype == b"IHDR":
        if len(body) != 13:
            result.broken("PNG IHDR chunk has the wrong length")
            return
        result.width, result.height = struct.unpack(">II", body[:8])
    elif ctype == b"iTXt":
        keyword, text, compressed = _itxt(body)
        if compressed:
            result.metadata_bytes += len(text)  # what it inflated to
        if keyword == XMP_KEYWORD:
            result.xmp.append(text)
            if compressed:
                result.notes.append("XMP iTXt chunk is compressed; some verifiers read it as inconclusive")
        elif keyword == LABEL_KEYWORD:
            result.text_labels.append(TextLabel("PNG iTXt AIGC", text.decode("utf-8", "replace")))
        elif lenient and keyword.startswith(RAW_PROFILE):
            _raw_profile(result, "iTXt", keyword, text)
        elif lenient:
            _stray(result, "iTXt", keyword, text)
    elif ctype in (b"tEXt", b"zTXt"):
        keyword, _, text = body.partition(b"\x00")
        raw = keyword.startswith(RAW_PROFILE)
        if keyword == LABEL_KEYWORD or (lenient and (raw or b"AIGC" in text or ctype == b"zTXt")):
            if ctype == b"zTXt":
                text = _inflate(text[1:])
                result.metadata_bytes += len(text)
                check_metadata(result.metadata_bytes)
            if keyword == LABEL_KEYWORD:
                result.text_labels.append(TextLabel(f"PNG {ctype.decode()} AIGC", text.decode("latin-1")))
            elif raw:
                _raw_profile(result, ctype.decode(), keyword, text)
            elif keyword == XMP_KEYWORD:  # XMP in a text chunk that cannot carry UTF-8: exiftool reads it
                result.stray_xmp.append(StrayXmp(f"XMP in PNG {ctype.decode()} 'XML:com.adobe.xmp'", text,
                                                 f"XMP in a {ctype.decode()} chunk; the XMP specification and the "
                                                 "image guide place it in an uncompressed iTXt chunk"))
            else:
                _stray(result, ctype.decode(), keyword, text)
    elif ctype == b"eXIf" and result.exif is None:
        result.exif = body


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _is_label_chunk(ctype: bytes, body: bytes) -> bool:
    if ctype == b"iTXt":
        keyword = body.split(b"\x00", 1)[0]
        return keyword in (XMP_KEYWORD, LABEL_KEYWORD)
    return ctype in (b"tEXt", b"zTXt") and body.split(b"\x00", 1)[0] == LABEL_KEYWORD


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    """One uncompressed XMP iTXt before the first IDAT; old XMP and Annex B labels replaced."""
    out = [SIGNATURE]
    placed = False
    for ctype, body, start, end in chunks(data):
        if _is_label_chunk(ctype, body):
            continue
        if ctype == b"IDAT" and not placed:
            out.append(_chunk(b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet))
            placed = True
        out.append(_chunk(ctype, exif) if ctype == b"eXIf" and exif is not None else data[start:end])
    if not placed:
        raise CorruptMedia("PNG has no IDAT chunk")
    return b"".join(out)
