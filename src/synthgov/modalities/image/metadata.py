"""Reading and writing the metadata label of an image from a container walk (no pixels decoded).

Reading: every XMP ``TC260:AIGC`` value, the Annex B EXIF UserComment forms and the PNG text forms,
with file-level problems (duplicates). Writing: the one label in the place the TC260 image guide
names for the format, any other label form removed (GB 45438 6.1 c: exactly one).
"""

from __future__ import annotations

from PIL import Image

from synthgov.errors import CorruptMedia
from synthgov.modalities.base import FoundLabel, MediaInfo, MetadataReport
from synthgov.modalities.image import xmp
from synthgov.modalities.image.formats import Scan
from synthgov.provenance.label import LabelForm, parse_label_text

USER_COMMENT = 0x9286
EXIF_IFD = 0x8769


def report(info: MediaInfo, found: Scan) -> MetadataReport:
    out = MetadataReport(info=info, notes=list(found.notes))
    if len(found.xmp) > 1:
        out.problems.append(f"{len(found.xmp)} XMP packets in one file")
    for packet in found.xmp:
        values, notes = xmp.find_aigc(packet)
        out.notes.extend(notes)
        for value in values:
            parsed = parse_label_text(value.value)
            label = FoundLabel(f"{found.xmp_location} ({value.form})", parsed)
            if parsed.form is LabelForm.WRAPPED:
                label.notes.append("XMP holds the wrapped {\"AIGC\":…} form; the guide writes the inner object")
            out.labels.append(label)
    for location, raw in found.text_labels:
        out.labels.append(FoundLabel(location, parse_label_text(raw)))
    for location, raw in exif_labels(found):
        out.labels.append(FoundLabel(location, parse_label_text(raw)))
    if len(out.labels) > 1:
        out.problems.append(f"{len(out.labels)} metadata labels in one file; GB 45438 6.1 c allows exactly one")
    return out


def user_comment(raw: object) -> str | None:
    """The text of an EXIF UserComment that holds an AIGC label, whatever its charset prefix."""
    if isinstance(raw, bytes):
        prefix, body = raw[:8], raw[8:]
        if prefix.startswith(b"UNICODE"):
            encoding = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
            text = body.decode(encoding, "replace")
        else:
            text = (body if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8) else raw).decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        return None
    text = text.strip("\x00 ")
    return text if "AIGC" in text else None


def _exif(found: Scan) -> Image.Exif | None:
    """The EXIF block the container walk found, parsed without decoding any pixels."""
    if not found.exif:
        return None
    exif = Image.Exif()
    exif.load(found.exif)
    return exif


def exif_labels(found: Scan) -> list[tuple[str, str]]:
    try:
        exif = _exif(found)
        if exif is None:
            return []
        places = [("EXIF UserComment (Exif IFD)", exif.get_ifd(EXIF_IFD).get(USER_COMMENT)),
                  ("EXIF UserComment (IFD0)", exif.get(USER_COMMENT))]
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on broken EXIF
        found.notes.append(f"EXIF block is unreadable: {exc}")
        return []
    return [(where, text) for where, raw in places if (text := user_comment(raw))]


def exif_without_label(found: Scan) -> bytes | None:
    """EXIF bytes with an Annex B UserComment label removed, or None when there is none."""
    try:
        exif = _exif(found)
        if exif is None:
            return None
        ifd = exif.get_ifd(EXIF_IFD)
        changed = False
        if user_comment(ifd.get(USER_COMMENT)):
            del ifd[USER_COMMENT]
            changed = True
        if user_comment(exif.get(USER_COMMENT)):
            del exif[USER_COMMENT]
            changed = True
        return exif.tobytes()[6:] if changed else None
    except Exception as exc:  # noqa: BLE001
        raise CorruptMedia(f"EXIF block is unreadable: {exc}") from exc
