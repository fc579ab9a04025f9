"""JPEG: XMP in an APP1 segment (``http://ns.adobe.com/xap/1.0/\\0``), EXIF in APP1 ``Exif\\0\\0``.

Hand-written segment walker: no library writes XMP into JPEG without re-encoding or native
dependencies (shared/docs/research/media-tooling.md §2). Entropy-coded data is copied verbatim.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from synthgov.errors import CorruptMedia, InvalidInput
from synthgov.modalities.image.formats import Scan

XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_ID = b"Exif\x00\x00"
MAX_SEGMENT_PAYLOAD = 65533
STANDALONE = {0x01, *range(0xD0, 0xD8)}
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass
class Segment:
    marker: int
    payload: bytes

    def encode(self) -> bytes:
        return struct.pack(">BBH", 0xFF, self.marker, len(self.payload) + 2) + self.payload


def split(data: bytes) -> tuple[list[Segment], bytes]:
    """Header segments up to and including SOS, and the rest of the file (scan data onwards)."""
    if data[:2] != b"\xff\xd8":
        raise CorruptMedia("not a JPEG file (no SOI marker)")
    pos, n = 2, len(data)
    segments: list[Segment] = []
    while True:
        while pos < n and data[pos] == 0xFF and pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 2 > n:
            raise CorruptMedia("JPEG is truncated before its image data")
        if data[pos] != 0xFF:
            raise CorruptMedia(f"JPEG marker expected at byte {pos}")
        marker = data[pos + 1]
        if marker in STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            raise CorruptMedia("JPEG ends before any image data")
        if pos + 4 > n:
            raise CorruptMedia("JPEG is truncated inside a segment header")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > n:
            raise CorruptMedia("JPEG is truncated (a segment runs past the end of the file)")
        if marker == 0xDA:
            rest = data[pos:]
            if data.rfind(b"\xff\xd9", pos) < 0:
                raise CorruptMedia("JPEG is truncated (no end-of-image marker)")
            return segments, rest
        segments.append(Segment(marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length


def scan(data: bytes) -> Scan:
    segments, _ = split(data)
    result = Scan(xmp_location="XMP TC260:AIGC in JPEG APP1")
    result.parts = len(segments)
    result.metadata_bytes = sum(len(seg.payload) for seg in segments
                                if 0xE0 <= seg.marker <= 0xEF or seg.marker == 0xFE)  # APPn and COM
    for seg in segments:
        if seg.marker in SOF_MARKERS and len(seg.payload) >= 5 and result.width is None:
            result.height, result.width = struct.unpack(">HH", seg.payload[1:5])
        if seg.marker == 0xE1 and seg.payload.startswith(XMP_ID):
            result.xmp.append(seg.payload[len(XMP_ID) :])
        elif seg.marker == 0xE1 and seg.payload.startswith(EXIF_ID) and result.exif is None:
            result.exif = seg.payload[len(EXIF_ID) :]
        elif (b"AIGC{" in seg.payload or b'{"AIGC"' in seg.payload) and not (
            seg.marker == 0xE1 and seg.payload.startswith((XMP_ID, EXIF_ID))
        ):
            start = seg.payload.find(b"AIGC{")
            start = start if start >= 0 else seg.payload.find(b'{"AIGC"')
            raw = seg.payload[start:].split(b"\x00", 1)[0].decode("utf-8", "replace")
            result.text_labels.append((f"JPEG APP{seg.marker - 0xE0} segment (non-standard)", raw))
    if result.width is None:
        raise CorruptMedia("JPEG has no frame header (SOF)")
    return result


def write(data: bytes, packet: bytes, exif: bytes | None = None) -> bytes:
    """Replace every standard XMP APP1 with one holding ``packet``; optionally replace EXIF."""
    if len(XMP_ID) + len(packet) > MAX_SEGMENT_PAYLOAD:
        raise InvalidInput("XMP packet too large for one JPEG APP1 segment (ExtendedXMP is not written)")
    segments, rest = split(data)
    kept: list[Segment] = []
    for seg in segments:
        if seg.marker == 0xE1 and seg.payload.startswith(XMP_ID):
            continue
        if exif is not None and seg.marker == 0xE1 and seg.payload.startswith(EXIF_ID):
            seg = Segment(0xE1, EXIF_ID + exif)
        kept.append(seg)
    insert_at = 0  # after the leading JFIF APP0 / Exif APP1, where readers expect XMP
    for i, seg in enumerate(kept):
        if seg.marker == 0xE0 or (seg.marker == 0xE1 and seg.payload.startswith(EXIF_ID)):
            insert_at = i + 1
        else:
            break
    kept.insert(insert_at, Segment(0xE1, XMP_ID + packet))
    return b"\xff\xd8" + b"".join(s.encode() for s in kept) + rest
