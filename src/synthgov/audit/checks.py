"""Checking the log against itself and its rows: every entry re-hashed and every stored column
re-derived from its leaf, the tree rebuilt, kept heads and outside checkpoints compared, and every
row the log vouches for checked against its entry (``audit verify``, ``records show``, ``inspect``,
authentication). Split from ``service`` (appending and proving) by role."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select

from synthgov.audit.binding import bound_models, row_digest, row_values
from synthgov.audit.merkle import CompactRange, ProofError, Tree
from synthgov.audit.models import AuditEvent, AuditTreeHead
from synthgov.audit.permissions import AuditPermission
from synthgov.audit.service import (
    _ENCODER,
    _STR,
    LEAF_VERSION,
    NodeStore,
    _state,
    _sth,
    _table,
    _tree,
)
from synthgov.audit.signing import verify_tree_head
from synthgov.context import Ctx
from synthgov.permissions import require

__all__ = ["LogVerification", "RowCheck", "TrustedCheckpoint", "_tree", "check_row", "preload_rows",
           "row_matches_entry", "verify_log"]


# -- verifying the whole log ----------------------------------------------------------------------
@dataclass
class LogVerification:
    entries: int = 0
    purged: int = 0
    tree_heads_checked: int = 0
    checkpoints_checked: int = 0
    rows_checked: int = 0
    root: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "purged": self.purged,
                "tree_heads_checked": self.tree_heads_checked, "checkpoints_checked": self.checkpoints_checked,
                "rows_checked": self.rows_checked, "root": self.root, "problems": self.problems, "notes": self.notes}


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint from outside the database whose signature verified (see ``checkpoints``)."""

    size: int
    root: bytes
    source: str


_COLUMNS = ("idx", "kind", "at", "actor", "subject")


def _derive(tree: Tree, r) -> tuple[dict[str, Any] | None, dict | None, list[str]]:
    """(the columns the leaf vouches for, the row it binds, problems) for one stored entry."""
    if r.leaf is None:  # a version 1 leaf purged whole: only its hash is left
        problems = [f"entry {r.idx}: purged, but column {c} still holds a value (edited)"
                    for c in ("actor", "subject") if getattr(r, c) is not None]
        return None, None, problems
    if tree.leaf(r.leaf.encode()) != r.leaf_hash:
        return None, None, [f"entry {r.idx}: content does not match its leaf hash (edited)"]
    try:
        fields_ = json.loads(r.leaf)
        if fields_.get("v") == LEAF_VERSION:
            derived: dict[str, Any] = {"idx": fields_["idx"], "kind": fields_["kind"], "at": fields_["at"],
                                       "actor": None, "subject": None}
            if r.private is not None:
                if tree.h(r.private.encode()).hex() != fields_["private"]:
                    return None, None, [f"entry {r.idx}: its actor, subject and payload do not match the leaf (edited)"]
                private = json.loads(r.private)
                derived["actor"], derived["subject"] = private["actor"], private["subject"]
            elif r.purged_at is None:
                return None, None, [f"entry {r.idx}: its actor, subject and payload are gone but it was never purged "
                                    "(deleted)"]
            row = fields_.get("row")
        else:
            derived = {c: fields_[c] for c in _COLUMNS}
            row = None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None, [f"entry {r.idx}: its leaf is not a synthgov leaf"]
    return derived, row, []


def _json_str(value: str | None) -> str:
    return "null" if value is None else _STR(value)


def _fast_check(tree: Tree, r) -> tuple[bool, dict | None]:
    """The common case, checked by re-encoding instead of parsing: an unpurged version 2 entry whose
    columns, leaf and private part are exactly what :func:`record_many` writes. ``(True, binding)``
    when everything matches; ``(False, None)`` sends the entry to :func:`_derive`, which names the
    difference. (Equivalent to parsing, because both sides are the canonical encoding.)"""
    idx, kind, at, actor, subject, leaf, private, leaf_hash, purged_at = r  # one unpacking: the loop is hot
    if leaf is None or private is None or purged_at is not None or tree.leaf(leaf.encode()) != leaf_hash:
        return False, None
    if not (private.startswith(f'{{"actor":{_json_str(actor)},"nonce":"')
            and private.endswith(f',"subject":{_json_str(subject)}}}')):
        return False, None
    row = None
    if ',"row":{' in leaf:
        try:
            row = json.loads(leaf).get("row")
        except ValueError:
            return False, None
    # the time: parsed from the leaf and compared as an instant (parsing costs a sixth of formatting)
    if not leaf.startswith('{"at":"') or leaf[39:40] != '"':
        return False, None
    try:
        if datetime.fromisoformat(leaf[7:39]) != at:
            return False, None
    except ValueError:
        return False, None
    row_text = f',"row":{_ENCODER.encode(row)}' if row is not None else ""
    expected = (f'{leaf[:40]},"idx":{idx},"kind":{_STR(kind)},"private":"{tree.h(private.encode()).hex()}"'
                f'{row_text},"v":{LEAF_VERSION}}}')
    return leaf == expected, row


def _column_problems(r, derived: dict[str, Any]) -> list[str]:
    stored = {"idx": r.idx, "kind": r.kind, "at": r.at.isoformat(timespec="microseconds") if r.at else None,
              "actor": r.actor, "subject": r.subject}
    return [f"entry {r.idx}: column {c} is {stored[c]!r} but its leaf says {derived[c]!r} (edited)"
            for c in _COLUMNS if stored[c] != derived[c]]


def verify_log(ctx: Ctx, *, progress: Callable[[int], None] | None = None, chunk: int = 50_000,
               checkpoints: Iterable[TrustedCheckpoint] = ()) -> LogVerification:
    """Re-hash every entry and re-derive every stored column from its leaf, rebuild the tree, check
    every kept tree head and every given checkpoint (from outside the database) against it, and
    every row the log vouches for against its entry."""
    require(ctx.actor, AuditPermission.AUDIT_READ)
    size, tree = _state(ctx)
    heads = {h.size: h for h in ctx.session.scalars(select(AuditTreeHead))}
    outside: dict[int, list[TrustedCheckpoint]] = {}
    for cp in checkpoints:
        outside.setdefault(cp.size, []).append(cp)
    result = LogVerification()
    compact = CompactRange(tree)
    bindings: dict[tuple[str, str], tuple[int, str]] = {}
    v1 = 0
    expected = 0
    table = _table(AuditEvent)
    columns = [table.c[c] for c in ("idx", "kind", "at", "actor", "subject", "leaf", "private", "leaf_hash",
                                    "purged_at")]
    while True:
        rows = ctx.session.execute(select(*columns).where(table.c.idx >= expected).order_by(table.c.idx)
                                   .limit(chunk)).all()
        if not rows:
            break
        for r in rows:
            idx, leaf, leaf_hash, purged_at = r[0], r[5], r[7], r[8]
            if idx != expected:
                result.problems.append(f"entries {expected}..{idx - 1} are missing")
                return result
            fast, row = _fast_check(tree, r)
            if not fast:  # re-derive field by field, to name what differs
                derived, row, problems = _derive(tree, r)
                result.problems.extend(problems)
                if derived is not None:
                    result.problems.extend(_column_problems(r, derived))
                v1 += leaf is None or leaf.startswith('{"actor"')  # version 1 leaves (keys sorted)
                result.purged += purged_at is not None
            if row is not None:
                bindings[(row["table"], row["id"])] = (idx, row["digest"])
            compact.append(leaf_hash)
            expected += 1
            head = heads.get(expected)
            if head is not None:
                _check_head(result, head, compact.root())
            for cp in outside.pop(expected, ()):
                _check_outside(result, cp, compact.root())
        if progress:
            progress(len(rows))
    result.entries = expected
    if expected != size:
        result.problems.append(f"log state says {size} entries but {expected} are stored")
    if 0 in heads:
        _check_head(result, heads[0], tree.empty)
    for cp in outside.pop(0, ()):
        _check_outside(result, cp, tree.empty)
    for cp_size, cps in sorted(outside.items()):
        for cp in cps:
            result.problems.append(f"{cp.source} holds a signed checkpoint of size {cp_size} but the log holds "
                                   f"{expected} entries: the log was truncated")
    result.root = compact.root().hex()
    if expected:
        stored = NodeStore(ctx).run(lambda sub: tree.subtree_root(0, expected, sub))
        if stored != compact.root():
            result.problems.append("stored subtree hashes disagree with the entries (proofs would be wrong)")
    _verify_rows(ctx, tree, bindings, result, legacy=v1 > 0)
    return result


def _check_outside(result: LogVerification, cp: TrustedCheckpoint, root: bytes) -> None:
    result.checkpoints_checked += 1
    if cp.root != root:
        result.problems.append(f"{cp.source}: the signed checkpoint of size {cp.size} does not match the log "
                               "(its history was rewritten)")


def _verify_rows(ctx: Ctx, tree: Tree, bindings: dict[tuple[str, str], tuple[int, str]], result: LogVerification,
                 *, legacy: bool) -> None:
    """Every bound row against the latest entry that vouches for it; every vouched row present."""
    known = set()
    unbound = 0
    for model in bound_models():
        name = model.__tablename__
        known.add(name)
        mtable = _table(model)
        for chunk in ctx.session.execute(select(mtable)).mappings().partitions(5_000):
            for values in chunk:
                key = (name, str(values["id"]))
                found = bindings.pop(key, None)
                if found is None:
                    if values["log_index"] is None and legacy:
                        unbound += 1
                    else:
                        result.problems.append(f"{name} {values['id']}: no log entry vouches for this row "
                                               "(written outside synthgov)")
                    continue
                idx, digest = found
                result.rows_checked += 1
                if values["log_index"] != idx:
                    result.problems.append(f"{name} {values['id']}: points to log entry {values['log_index']} but "
                                           f"entry {idx} vouches for its latest state (edited)")
                elif row_digest(tree.h, name, dict(values)) != digest:
                    result.problems.append(f"{name} {values['id']}: does not match log entry {idx} (edited after "
                                           "it was logged)")
    for (name, row_id), (idx, _) in sorted(bindings.items(), key=lambda kv: kv[1][0]):
        if name in known:
            result.problems.append(f"log entry {idx} vouches for {name} {row_id}, which is missing (deleted)")
    if unbound:
        result.notes.append(f"{unbound} rows were written before rows were bound to the log (revision 0005); "
                            "their content cannot be checked")


@dataclass(frozen=True)
class RowCheck:
    """What ``records show`` and ``inspect`` say about a record: does it match the log?"""

    entry: int | None
    matches: bool
    checkpoint_size: int | None
    says: str

    def to_dict(self) -> dict:
        return {"entry": self.entry, "matches": self.matches, "checkpoint_size": self.checkpoint_size,
                "says": self.says}


def _binding_problem(ctx: Ctx, row: Any) -> tuple[bytes | None, str | None]:
    """(the entry's leaf hash, what is wrong or None) for one bound row against its log entry."""
    name, idx = row.__tablename__, row.log_index
    _, tree = ctx.memo("audit-state", lambda: _state(ctx))  # only its hash functions are used here
    entry = _entries(ctx).get(idx)
    if entry is None:
        table = _table(AuditEvent)
        entry = ctx.session.execute(select(table.c.leaf, table.c.leaf_hash).where(table.c.idx == idx)).first()
        if entry is not None:
            _entries(ctx)[idx] = entry  # entries are written once: what was read stays true
    if entry is None or entry.leaf is None:
        return None, f"its log entry {idx} is missing"
    if tree.leaf(entry.leaf.encode()) != entry.leaf_hash:
        return None, f"log entry {idx} was edited"
    try:
        binding = json.loads(entry.leaf).get("row") or {}
    except ValueError:
        binding = {}
    values = row_values(row)
    if binding.get("table") != name or binding.get("id") != str(values["id"]):
        return entry.leaf_hash, f"log entry {idx} vouches for another row"
    if binding.get("digest") != row_digest(tree.h, name, values):
        return entry.leaf_hash, f"the row was changed after log entry {idx} was written"
    return entry.leaf_hash, None


def _entries(ctx: Ctx) -> dict[int, Any]:
    """The log entries (leaf, leaf hash) this unit of work has read, by index."""
    found: dict[int, Any] = ctx.memo("audit-entries", dict)
    return found


def preload_rows(ctx: Ctx, rows: Iterable[Any], checkpoint: TrustedCheckpoint | None) -> None:
    """Read what :func:`check_row` needs for a batch of rows in one query each: their log entries
    and the stored hashes of their inclusion paths in ``checkpoint`` (``inspect`` of a folder). The
    checks themselves are unchanged: they re-derive everything from what was read."""
    wanted = sorted({row.log_index for row in rows if row.log_index is not None})
    entries = _entries(ctx)
    missing = [idx for idx in wanted if idx not in entries]
    table = _table(AuditEvent)
    for part in (missing[i : i + 500] for i in range(0, len(missing), 500)):
        for entry in ctx.session.execute(select(table.c.idx, table.c.leaf, table.c.leaf_hash)
                                         .where(table.c.idx.in_(part))):
            entries[entry.idx] = entry
    if checkpoint is None or not wanted:
        return
    _, tree = ctx.memo("audit-state", lambda: _state(ctx))
    size = checkpoint.size
    with contextlib.suppress(ProofError):  # a hash is missing: each row's own check says which entry
        ctx.memo("audit-node-store", lambda: NodeStore(ctx)).prefetch(
            [partial(tree.inclusion_path, idx, size) for idx in wanted if idx < size])


def row_matches_entry(ctx: Ctx, row: Any) -> bool:
    """Whether a bound row matches the digest in its log entry (the cheap check on every use; the
    entry's inclusion in a checkpoint is :func:`check_row`'s and ``verify``'s job)."""
    return row.log_index is not None and _binding_problem(ctx, row)[1] is None


def check_row(ctx: Ctx, row: Any, checkpoint: TrustedCheckpoint | None) -> RowCheck:
    """Re-derive one bound row's digest from its log entry and prove the entry is in ``checkpoint``
    (the latest from outside the database), computing the inclusion path from the stored hashes."""
    idx = row.log_index
    if idx is None:
        return RowCheck(None, False, None, "not bound to the log (written before revision 0005): cannot be checked")
    leaf_hash, problem = _binding_problem(ctx, row)
    if problem is not None or leaf_hash is None:
        return RowCheck(idx, False, None, f"DOES NOT MATCH the log: {problem}")
    if checkpoint is None:
        return RowCheck(idx, True, None, f"matches log entry {idx}; no signed checkpoint outside the database yet")
    if idx >= checkpoint.size:
        return RowCheck(idx, True, None, f"matches log entry {idx}; not yet in a signed checkpoint (latest: size "
                                         f"{checkpoint.size})")
    _, tree = ctx.memo("audit-state", lambda: _state(ctx))
    try:  # stored subtree hashes never change: one store per unit of work serves a batch of checks
        path = ctx.memo("audit-node-store", lambda: NodeStore(ctx)).run(
            lambda sub: tree.inclusion_path(idx, checkpoint.size, sub))
        tree.verify_inclusion(idx, checkpoint.size, leaf_hash, path, checkpoint.root)
    except ProofError as exc:
        return RowCheck(idx, False, checkpoint.size, f"DOES NOT MATCH the log: entry {idx} is not in the signed "
                                                     f"checkpoint of size {checkpoint.size} ({exc})")
    return RowCheck(idx, True, checkpoint.size,
                    f"matches log entry {idx}, included in the signed checkpoint of size {checkpoint.size}")


def _check_head(result: LogVerification, head: AuditTreeHead, root: bytes) -> None:
    result.tree_heads_checked += 1
    if head.root != root:
        result.problems.append(f"signed tree head of size {head.size} does not match the entries")
    if not verify_tree_head(_sth(head)):
        result.problems.append(f"signed tree head of size {head.size} has an invalid signature")
