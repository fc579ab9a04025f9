"""JPEG: XMP in an APP1 segment (``http://ns.adobe.com/xap/1.0/\\0``), EXIF in APP1 ``Exif\\0\\0``.

Hand-written segment walker: no library writes XMP into JPEG without re-encoding or native
dependencies (shared/docs/research/media-tooling.md §2). Entropy-coded data is copied verbatim.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from synthgov.errors import InvalidInput
from synthgov.modalities.image.formats import Broken, Scan, StrayXmp, TextLabel, strict

XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_ID = b"Exif\x00\x00"
EXTENDED_ID = b"http://ns.adobe.com/xmp/extension/\x00"
MAX_SEGMENT_PAYLOAD = 65533
STANDALONE = {0x01, *range(0xD0, 0xD8)}
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass
class Segment:
    marker: int
    payload: bytes

    def encode(self) -> bytes:
        return struct.pack(">BBH", 0xFF, self.marker, len(self.payload) + 2) + self.payload


def split(data: bytes, broken: Broken = strict) -> tuple[list[Segment], bytes]:
    """Header segments up to and including SOS, and the rest of the file (scan data onwards).
    ``broken`` meets damage (see png.chunks): a lenient walk stops there with the segments before."""
    if data[:2] != b"\xff\xd8":
        strict("not a JPEG file (no SOI marker)")
    pos, n = 2, len(data)
    segments: list[Segment] = []
    while True:
        while pos < n and data[pos] == 0xFF and pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 2 > n:
            broken("JPEG is truncated before its image data")
            return segments, b""
        if data[pos] != 0xFF:
            broken(f"JPEG marker expected at byte {pos}")
            return segments, b""
        marker = data[pos + 1]
        if marker in STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            broken("JPEG ends before any image data")
            return segments, b""
        if pos + 4 > n:
            broken("JPEG is truncated inside a segment header")
            return segments, b""
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > n:
            broken("JPEG is truncated (a segment runs past the end of the file)")
            segments.append(Segment(marker, data[pos + 4 : pos + 2 + length]))  # what there is of it
            return segments, b""
        if marker == 0xDA:
            rest = data[pos:]
            if data.rfind(b"\xff\xd9", pos) < 0:
                broken("JPEG is truncated (no end-of-image marker)")
            return segments, rest
        segments.append(Segment(marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length


def segment_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    return {0xFE: "COM", 0xDB: "DQT", 0xC4: "DHT", 0xDD: "DRI"}.get(marker, f"marker 0x{marker:02X}")


def _xmp_elsewhere(seg: Segment) -> StrayXmp | None:
    """XMP in an APP1 (or any APPn/COM) without the standard identifier: ``XMP\\0XMP\\0``, the
    identifier without its NUL, or a bare packet."""
    body = seg.payload
    start = min((i for i in (body.find(b"<?xpacket"), body.find(b"<x:xmpmeta"), body.find(b"<rdf:RDF")) if i >= 0),
                default=-1)
    if start < 0 or b"AIGC" not in body:
        return None
    header = body[:start].rstrip(b"\x00 ")
    name = segment_name(seg.marker)
    return StrayXmp(f"XMP in JPEG {name} with the header {header[:40]!r}", body[start:],
                    f"XMP in a JPEG {name} segment headed {header[:40]!r}, not the standard APP1 identifier "
                    "'http://ns.adobe.com/xap/1.0/\\0'")


def _extended(segments: list[Segment], result: Scan) -> None:
    """ExtendedXMP (XMP part 3): chunks of one packet, joined by GUID and offset."""
    parts: dict[bytes, dict[int, bytes]] = {}
    for seg in segments:
        if seg.marker == 0xE1 and seg.payload.startswith(EXTENDED_ID) and len(seg.payload) >= len(EXTENDED_ID) + 40:
            head = seg.payload[len(EXTENDED_ID) : len(EXTENDED_ID) + 40]
            (offset,) = struct.unpack(">I", head[36:40])
            parts.setdefault(head[:32], {})[offset] = seg.payload[len(EXTENDED_ID) + 40 :]
    for guid, chunks in parts.items():
        packet = b"".join(chunks[k] for k in sorted(chunks))
        if b"AIGC" in packet:
            result.stray_xmp.append(StrayXmp(f"ExtendedXMP {guid[:8].decode('latin-1')}… in JPEG APP1", packet,
                                             "label in ExtendedXMP; the image guide places it in the main XMP APP1"))


def scan(data: bytes, lenient: bool = False) -> Scan:
    result = Scan(xmp_location="XMP TC260:AIGC in JPEG APP1", lenient=lenient)
    segments, _ = split(data, result.broken)
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
        elif seg.marker == 0xE1 and seg.payload.startswith(EXTENDED_ID):
            continue
        elif lenient and (stray := _xmp_elsewhere(seg)) is not None:
            result.stray_xmp.append(stray)
        elif (b"AIGC{" in seg.payload or b'{"AIGC"' in seg.payload or b'{"Label"' in seg.payload) and not (
            seg.marker == 0xE1 and seg.payload.startswith((XMP_ID, EXIF_ID))
        ):
            found = [i for i in (seg.payload.find(b"AIGC{"), seg.payload.find(b'{"AIGC"'),
                                 seg.payload.find(b'{"Label"')) if i >= 0]
            raw = seg.payload[min(found):].split(b"\x00", 1)[0].decode("utf-8", "replace")
            where = f"JPEG {segment_name(seg.marker)} segment"
            result.text_labels.append(TextLabel(f"{where} (non-standard)", raw,
                                                f"label in a {where}, not in XMP or EXIF UserComment"))
    if lenient:
        _extended(segments, result)
    if result.width is None:
        result.broken("JPEG has no frame header (SOF)")
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
