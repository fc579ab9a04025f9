"""The GB 45438 Annex E file-metadata label: seven string fields in a fixed order.

``AigcLabel`` is the one model for writing; :func:`parse_label_text` reads every serialized form
found in the wild (spec §4.4, §4.8) and reports non-conformities instead of raising.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from synthgov.errors import InvalidInput

FIELD_ORDER = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
# Vendor spellings seen in real files (spec §9 C10); read with a warning, never written.
VENDOR_KEY_TYPOS = {
    "ReserveCode1": "ReservedCode1",
    "ReserveCode2": "ReservedCode2",
    "Propagator": "ContentPropagator",
    "PropatorID": "PropagateID",
    "PropagatorID": "PropagateID",
    "label": "Label",
}
# Annex E j): 0x21, 0x23-0x5B, 0x5D-0x7E; a '"' may appear only as the JSON escape \" (decoded here).
_CHARSET = re.compile(r'^[\x21-\x5B\x5D-\x7E]*$')


class LabelValue(StrEnum):
    IS_AI = "1"  # 属于
    POSSIBLY_AI = "2"  # 可能为
    SUSPECTED_AI = "3"  # 疑似为


def charset_ok(value: str) -> bool:
    return bool(_CHARSET.match(value))


@dataclass(frozen=True)
class AigcLabel:
    Label: str
    ContentProducer: str
    ProduceID: str
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    @classmethod
    def first_write(cls, *, label: str, producer: str, produce_id: str, reserved1: str = "") -> AigcLabel:
        """A producer's first label: propagation elements mirror production ones (Annex E note 1)."""
        return cls(label, producer, produce_id, reserved1, producer, produce_id, "")

    def problems(self) -> list[str]:
        return validate_fields(self.as_dict())

    def validate(self) -> AigcLabel:
        errors = self.problems()
        if errors:
            raise InvalidInput("invalid Annex E label: " + "; ".join(errors))
        return self

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FIELD_ORDER}

    def to_json(self) -> str:
        """The inner seven-key object, compact, in Annex E field order."""
        return json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=False)

    def to_wrapped_json(self) -> str:
        """``{"AIGC":{...}}`` for generic fields such as EXIF UserComment (image guide Annex B)."""
        return '{"AIGC":' + self.to_json() + "}"

    def signed_message(self) -> bytes:
        return signed_message(self.Label, self.ContentProducer, self.ProduceID)


def signed_message(label: str, producer: str, produce_id: str) -> bytes:
    """TC260-PG-202511A A.1: the first three Annex E pairs, no braces."""
    parts = (("Label", label), ("ContentProducer", producer), ("ProduceID", produce_id))
    return ",".join(f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in parts).encode()


def validate_fields(fields: Mapping[str, object]) -> list[str]:
    errors: list[str] = []
    for key in fields:
        if key not in FIELD_ORDER:
            hint = VENDOR_KEY_TYPOS.get(key)
            errors.append(f"unknown key {key!r}" + (f" (vendor typo of {hint!r})" if hint else ""))
    for key in FIELD_ORDER:
        if key not in fields:
            errors.append(f"missing field {key}")
            continue
        value = fields[key]
        if not isinstance(value, str):
            errors.append(f"{key} must be a string, not {type(value).__name__}")
        elif not charset_ok(value):
            errors.append(f"{key} has characters outside the Annex E character set")
    label = fields.get("Label")
    if not isinstance(label, str) or label not in {v.value for v in LabelValue}:  # any JSON value may be there
        errors.append("Label must be \"1\", \"2\" or \"3\"")
    for key in ("ContentProducer", "ProduceID"):
        if key in fields and fields[key] == "":
            errors.append(f"{key} is empty")
    return errors


class LabelForm(StrEnum):
    INNER = "inner"  # {"Label":...}
    WRAPPED = "wrapped"  # {"AIGC":{"Label":...}}
    GLUED = "glued"  # AIGC{"Label":...}


@dataclass
class ParsedLabel:
    """A label as found in a file, with what is wrong with it."""

    raw: str
    form: LabelForm | None = None
    fields: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def conformant(self) -> bool:
        return not self.problems

    def get(self, key: str) -> str:
        value = self.fields.get(key)
        if value is None:
            alias = next((k for k, v in VENDOR_KEY_TYPOS.items() if v == key and k in self.fields), None)
            value = self.fields.get(alias) if alias else None
        return value if isinstance(value, str) else ("" if value is None else str(value))

    def to_label(self) -> AigcLabel:
        return AigcLabel(**{k: self.get(k) for k in FIELD_ORDER})


MAX_LABEL_TEXT = 64 * 1024


def parse_label_text(raw: str) -> ParsedLabel:
    """Parse a serialized label in any form the spec lists; never raises."""
    result = ParsedLabel(raw=raw)
    text = raw.strip().lstrip("\ufeff")
    if len(text) > MAX_LABEL_TEXT:
        result.problems.append(f"label value is {len(text)} characters; refusing to parse over {MAX_LABEL_TEXT}")
        return result
    if text.startswith("AIGC{"):
        result.form, text = LabelForm.GLUED, text[4:]
        result.problems.append("label glued to 'AIGC' without a JSON wrapper")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        result.problems.append(f"label is not valid JSON: {exc}")
        return result
    if isinstance(obj, dict) and set(obj) == {"AIGC"}:
        obj = obj["AIGC"]
        result.form = result.form or LabelForm.WRAPPED
    if isinstance(obj, str):  # double-encoded JSON string
        result.problems.append("label is a JSON string holding JSON (double-encoded)")
        try:
            obj = json.loads(obj)
        except ValueError:
            obj = None
    if not isinstance(obj, dict):
        result.problems.append("label is not a JSON object")
        return result
    result.form = result.form or LabelForm.INNER
    result.fields = obj
    result.problems.extend(validate_fields(obj))
    if list(k for k in obj if k in FIELD_ORDER) != [k for k in FIELD_ORDER if k in obj]:
        result.problems.append("fields are not in Annex E order")
    return result
