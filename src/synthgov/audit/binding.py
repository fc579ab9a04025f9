"""Rows the log vouches for: each carries the index of its log entry, and that entry holds a digest
of the row's canonical content (architecture rule 16: nothing is trusted because it sits in the
database).

A model opts in by mixing in :class:`LogBound`; a service that writes or changes such a row appends
its event with ``audit.record(ctx, event, binds=row)``. ``audit verify`` re-derives every bound
row's digest, and ``records show`` / ``inspect`` check the record they report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

ROW_DIGEST_PREFIX = b"synthgov/row/v1\n"


class LogBound:
    """Mixin: the row's log entry (``None`` for rows written before binding existed)."""

    log_index: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat(
            timespec="microseconds")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_row(table: str, values: dict[str, Any]) -> str:
    """The text a row's digest covers: its table and every column but ``log_index``, NULLs left out
    (so a later migration that adds a nullable column does not change old rows' digests)."""
    columns = {k: _plain(v) for k, v in values.items() if k != "log_index" and v is not None}
    return _ENCODER.encode({"columns": columns, "table": table})


_ATTRIBUTES: dict[type, tuple[tuple[str, str], ...]] = {}  # per model: (column name, attribute name)


def row_values(row: Any) -> dict[str, Any]:
    """Column name -> value of an ORM row (by column, not by attribute name)."""
    pairs = _ATTRIBUTES.get(type(row))
    if pairs is None:
        mapper = row.__mapper__
        pairs = _ATTRIBUTES.setdefault(type(row), tuple((column.name, mapper.get_property_by_column(column).key)
                                                        for column in row.__table__.columns))
    return {name: getattr(row, key) for name, key in pairs}


def row_digest(h, table: str, values: dict[str, Any]) -> str:
    return h(ROW_DIGEST_PREFIX + canonical_row(table, values).encode()).hex()


def bound_models() -> list[Any]:
    """Every mapped model that mixes in :class:`LogBound` (their modules imported by bootstrap)."""
    from synthgov.storage.base import Base

    return sorted((m.class_ for m in Base.registry.mappers if issubclass(m.class_, LogBound)),
                  key=lambda cls: str(cls.__tablename__))
