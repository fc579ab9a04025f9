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
from synthgov.modalities.image.xmp import looks_like_label
from synthgov.provenance.label import LabelForm, parse_label_text

USER_COMMENT = 0x9286
EXIF_IFD = 0x8769
# EXIF text tags where vendors put AIGC values outside Annex B's UserComment (read leniently)
TEXT_TAGS = {0x010E: "ImageDescription", 0x013B: "Artist", 0x0131: "Software", 0x8298: "Copyright",
             0x9C9C: "XPComment", 0x9C9B: "XPTitle", 0x9C9F: "XPSubject"}
VENDOR_SCHEMAS = (  # keys that name a vendor's own AIGC schema, not GB 45438 Annex E
    ({"ServiceProvider", "ServiceUser"}, "Tencent Cloud AIGC schema"),
    ({"aigc_label_type"}, "a vendor AIGC schema with aigc_label_type"),
)


def report(info: MediaInfo, found: Scan) -> MetadataReport:
    out = MetadataReport(info=info, notes=list(found.notes))
    out.problems.extend(f"container damaged: {d}" for d in found.damage)
    packets: list[tuple[str, bytes, str | None]] = [(found.xmp_location, packet, None) for packet in found.xmp]
    packets += [(s.location, s.packet, s.problem) for s in found.stray_xmp]
    if len(packets) > 1:
        out.problems.append(f"{len(packets)} XMP packets in one file")
    for location, packet, problem in packets:
        damage: list[str] | None = [] if found.lenient else None
        try:
            values, notes = xmp.find_aigc(packet, damage)
        except CorruptMedia as exc:
            if not found.lenient:
                raise
            out.problems.append(f"container damaged: {exc}")
            continue
        out.problems.extend(f"container damaged: {d}" for d in damage or [])
        out.notes.extend(notes)
        for value in values:
            parsed = parse_label_text(value.value)
            where = location.replace("XMP TC260:AIGC in", "XMP in", 1) if value.problem else location
            label = FoundLabel(f"{where} ({value.form})", parsed,
                               placement=[p for p in (problem, value.problem) if p])
            if parsed.form is LabelForm.WRAPPED:
                label.notes.append("XMP holds the wrapped {\"AIGC\":…} form; the guide writes the inner object")
            out.labels.append(label)
    for text in found.text_labels:
        _text_label(out, text.location, text.raw, [text.problem] if text.problem else [])
    for location, raw, placement in exif_labels(found):
        _text_label(out, location, raw, placement)
    if len(out.labels) > 1:
        out.problems.append(f"{len(out.labels)} metadata labels in one file; GB 45438 6.1 c allows exactly one")
    return out


def _text_label(out: MetadataReport, location: str, raw: str, placement: list[str]) -> None:
    """A label stored as text, unless it is a vendor's own schema (named in a note instead)."""
    vendor = vendor_schema(raw)
    if vendor:
        out.notes.append(f"{vendor} in {location}: not a GB 45438 implicit label")
        return
    out.labels.append(FoundLabel(location, parse_label_text(raw), placement=placement))


def vendor_schema(raw: str) -> str | None:
    """The name of the vendor schema ``raw`` is written in, when it is not Annex E's."""
    import json

    try:
        obj = json.loads(raw.strip().removeprefix("AIGC"))
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and isinstance(obj.get("AIGC"), dict):
        obj = obj["AIGC"]
    if not isinstance(obj, dict) or "ContentProducer" in obj or "Label" in obj:
        return None
    for keys, name in VENDOR_SCHEMAS:
        if keys & set(obj):
            return name
    return f"an AIGC object in an unknown schema (keys {', '.join(sorted(map(str, obj))[:6])})"


def _comment_text(raw: object) -> str | None:
    """The text of an EXIF UserComment or text tag, whatever its charset prefix (ASCII, UNICODE in
    either byte order, JIS, undefined, or none at all)."""
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes):
        return None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16", "replace")
        return body.decode("utf-16-be" if body[:1] == b"\x00" else "utf-16-le", "replace")
    if prefix.startswith(b"JIS"):
        return body.decode("shift_jis", "replace")
    if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        return body.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def user_comment(raw: object) -> str | None:
    """The text of an EXIF UserComment that holds a label (the wrapped Annex B form, or the inner
    object that some writers put there), whatever its charset prefix."""
    text = _comment_text(raw)
    if text is None:
        return None
    text = text.strip("\x00 ")
    return text if "AIGC" in text or looks_like_label(text) else None


def _exif(found: Scan) -> Image.Exif | None:
    """The EXIF block the container walk found, parsed without decoding any pixels."""
    if not found.exif:
        return None
    exif = Image.Exif()
    exif.load(found.exif)
    return exif


def exif_labels(found: Scan) -> list[tuple[str, str, list[str]]]:
    """(location, text, placement problems) of every label in the EXIF block: UserComment in the
    Exif IFD (Annex B: the wrapped form), in IFD0, and, for a lenient walk, the text tags."""
    try:
        exif = _exif(found)
        if exif is None:
            return []
        sub = exif.get_ifd(EXIF_IFD)
        places = [("EXIF UserComment (Exif IFD)", sub.get(USER_COMMENT), []),
                  ("EXIF UserComment (IFD0)", exif.get(USER_COMMENT),
                   ["UserComment in IFD0; EXIF defines it in the Exif IFD, where Annex B readers look"])]
        if found.lenient:
            for tag, name in TEXT_TAGS.items():
                for ifd_name, ifd in (("IFD0", exif), ("Exif IFD", sub)):
                    if (raw := ifd.get(tag)) is not None:
                        if name.startswith("XP") and isinstance(raw, (bytes, tuple)):
                            raw = bytes(raw).decode("utf-16-le", "replace")
                        places.append((f"EXIF {name} ({ifd_name})", raw,
                                       [f"label in EXIF {name}, not in XMP or UserComment (image guide Annex B)"]))
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on broken EXIF
        found.notes.append(f"EXIF block is unreadable: {exc}")
        return []
    out = []
    for where, raw, placement in places:
        text = user_comment(raw)
        if not text:
            continue
        parsed_form = parse_label_text(text).form
        if where.startswith("EXIF UserComment") and parsed_form is not LabelForm.WRAPPED and looks_like_label(text):
            placement = [*placement, "EXIF UserComment holds the inner object; image guide Annex B writes the "
                         "wrapped {\"AIGC\":…} form"]
        if found.exif_place is not None:
            where, placement = f"{where} in {found.exif_place[0]}", [*placement, found.exif_place[1]]
        out.append((where, text, placement))
    return out


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
