"""Typed inspection results. ``to_dict`` gives the JSON the CLI (``--json``) and the API return."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel

from synthgov.jsontext import dumps
from synthgov.provenance.signing import SignatureCheck
from synthgov.records.schemas import RecordOut, RecordRef


class Status(StrEnum):
    LABELED = "labeled"  # one conformant label
    NONCONFORMANT = "nonconformant"  # labels present, but something is wrong with them
    UNLABELED = "unlabeled"
    ERROR = "error"  # the file could not be read


_PLAIN = frozenset({str, int, float, bool})
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once per class


def jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models, enums, bytes and containers as JSON values."""
    if value is None or type(value) in _PLAIN:  # most values of a result: nothing to convert
        return value
    names = _FIELDS.get(type(value))
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.setdefault(type(value), tuple(f.name for f in fields(value)))
    if names is not None:
        return {name: jsonable(getattr(value, name)) for name in names}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


@dataclass
class LabelFinding:
    location: str
    form: str | None
    fields: dict[str, Any]
    conformant: bool
    problems: list[str]
    notes: list[str]
    signature: SignatureCheck
    propagation_signature: SignatureCheck | None
    record: RecordOut | RecordRef | None
    content_matches_record: bool | None


@dataclass
class WatermarkFinding:
    present: bool
    checked: bool  # False: the content could not be read for a mark (``detail`` says why)
    scheme: str | None = None
    payload: str | None = None  # hex
    confidence: float | None = None
    detail: Any = None
    record: RecordOut | RecordRef | None = None


class Relation(StrEnum):
    """What an inspected file is to a record, when it is not traced by a label."""

    OUTPUT = "output"  # byte-identical to the output of the record (the labeled file itself)
    INPUT = "input"  # byte-identical to the input of the record: a source, not generated content
    NEAR_OUTPUT = "near-copy-of-output"  # perceptually close to the output (PDQ): a re-encoded or edited copy


@dataclass
class ContentMatch:
    relation: Relation
    record: RecordOut | RecordRef

    @property
    def says(self) -> str:
        return {Relation.OUTPUT: "this is the output of record {}",
                Relation.INPUT: "this is the input of record {} (a source, not generated content)",
                Relation.NEAR_OUTPUT: "a near copy of the output of record {}"}[self.relation].format(self.record.id)


@dataclass
class FingerprintFinding:
    distance: int
    variant: int
    record: RecordOut | RecordRef
    match: str = "fingerprint"  # not a label: a perceptual near-copy
    relation: Relation = Relation.NEAR_OUTPUT
    also_input: bool = False  # the same record's input is this very file: it was the source of an edit


@dataclass
class Inspection:
    name: str | None
    status: Status
    format: str | None = None
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    labels: list[LabelFinding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    watermark: WatermarkFinding | None = None  # None: not looked for (metadata already traced it)
    fingerprint_matches: list[FingerprintFinding] = field(default_factory=list)
    content_matches: list[ContentMatch] = field(default_factory=list)  # by SHA-256: output or input of records
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(self)
        return out

    def encoded(self) -> EncodedInspection:
        """This result as its JSON text (a batch worker sends that, not the objects: the command's
        own process then only writes it)."""
        return EncodedInspection(self.name, self.status, self.error,
                                 dumps(self.to_dict(), default=str))


@dataclass(frozen=True)
class EncodedInspection:
    """An :class:`Inspection` as JSON text, with what a summary counts."""

    name: str | None
    status: Status
    error: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.text)
        return out
