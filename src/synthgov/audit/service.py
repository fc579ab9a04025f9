"""The append-only audit log: typed events as leaves of an RFC 9162 Merkle tree.

Appends run inside the caller's transaction (architecture rule 5). One row, ``audit_log_state``,
serializes them: ``UPDATE … SET size = size + n RETURNING size`` takes the row lock on PostgreSQL
and the write lock on SQLite, so indexes are contiguous and the tree is the same whoever appends.
Perfect subtree hashes are stored as they complete (``audit_nodes``), so roots and proofs need
O(log n) rows, not the whole log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from synthgov.audit.binding import bound_models, row_digest, row_values
from synthgov.audit.events import AuditPurged, HoldPlaced, HoldReleased
from synthgov.audit.merkle import CompactRange, ProofError, Tree, frontier, is_perfect
from synthgov.audit.models import AuditEvent, AuditHold, AuditLogState, AuditNode, AuditTreeHead
from synthgov.audit.permissions import AuditPermission
from synthgov.audit.policy import AuditPolicy
from synthgov.audit.signing import SignedTreeHead, sign_tree_head, verify_tree_head
from synthgov.context import Ctx
from synthgov.errors import InvalidInput, NotFound
from synthgov.events import Event
from synthgov.permissions import require

LEVEL_SHIFT = 48
EXPORT_FORMAT = "synthgov-audit-export"


def _table(model: type) -> Table:
    """A model's Core table (Core statements: the ORM paths cost more than the hashing)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def node_id(level: int, index: int) -> int:
    return level << LEVEL_SHIFT | index


LEAF_VERSION = 2
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_STR = json.encoder.encode_basestring  # what that encoder writes for a str (ensure_ascii=False)


def _encode(**fields) -> str:
    return _ENCODER.encode(fields)


def canonical_leaf(idx: int, kind: str, at: datetime, private: str, h: Callable[[bytes], bytes],
                   row: dict | None = None) -> str:
    """The exact text hashed into the tree (leaf version 2, documented in docs/audit.md): what is
    never purged, and the digest of the private part. Written out by hand because verification
    rebuilds it for every entry: the same bytes as ``_encode(v=2, idx=…, kind=…, at=…, private=…,
    row=…)`` (keys sorted, no spaces; tests/audit/test_log.py holds the two together)."""
    at_text = at.isoformat(timespec="microseconds")
    row_text = f',"row":{_ENCODER.encode(row)}' if row is not None else ""
    return (f'{{"at":{_STR(at_text)},"idx":{int(idx)},"kind":{_STR(kind)},"private":"{h(private.encode()).hex()}"'
            f'{row_text},"v":{LEAF_VERSION}}}')


def canonical_private(actor: str | None, subject: str | None, payload: object, nonce: str) -> str:
    """What retention purges: the actor, the subject and the payload, with a random nonce (so the
    digest that stays in the leaf does not let anyone confirm a guess of the purged content)."""
    return _encode(actor=actor, subject=subject, payload=payload, nonce=nonce)


# -- appending ------------------------------------------------------------------------------------
def record(ctx: Ctx, event: Event, *, binds: object | None = None) -> int:
    """Append one event in the caller's transaction; returns its index. ``binds``: a
    :class:`~synthgov.audit.binding.LogBound` row this event vouches for (its digest goes into the
    leaf and the row gets the entry's index)."""
    return record_many(ctx, [event], binds=[binds])[0]


def record_many(ctx: Ctx, events: list[Event], *, binds: list[object | None] | None = None) -> list[int]:
    """Append events as one contiguous run of leaves, in the caller's transaction."""
    if not events:
        return []
    bound = binds or [None] * len(events)
    if len(bound) != len(events):
        raise ValueError("one binding (or None) per event")
    session = ctx.session
    conn = session.connection()  # Core statements: the ORM paths cost more than the hashing
    state = _table(AuditLogState)
    row = conn.execute(
        update(state)
        .where(state.c.id == 1)
        .values(size=state.c.size + len(events),
                hash_alg=func.coalesce(state.c.hash_alg, ctx.policy(AuditPolicy).hash_alg))
        .returning(state.c.size, state.c.hash_alg)
    ).one()
    start, tree = row.size - len(events), _tree(row.hash_alg)
    compact = CompactRange(tree)
    # Only the frontier nodes below the highest bit that changes get merged with new leaves; the
    # others stay as they are (placeholders here), so most single appends need no read at all.
    changed = (start ^ (start + len(events))).bit_length() - 1
    needed = frontier(start)
    merged = [(level, index) for level, index in needed if level < changed]
    hashes: dict[int, bytes] = {}
    if merged:
        ids = [node_id(level, index) for level, index in merged]
        nodes_table = _table(AuditNode)
        hashes = dict(conn.execute(select(nodes_table.c.id, nodes_table.c.hash).where(nodes_table.c.id.in_(ids))).all())
        if len(hashes) != len(ids):
            raise ProofError(
                f"audit log is missing stored subtree hashes below size {start}; run `synthgov audit verify`"
            )
    compact.stack = [hashes.get(node_id(level, index), b"") for level, index in needed]
    compact.size = start
    at, actor = ctx.clock(), ctx.actor.ref
    rows: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    for offset, (event, target) in enumerate(zip(events, bound, strict=True)):
        idx = start + offset
        subject = event.subject
        binding = None
        if target is not None:
            table_name = target.__tablename__  # type: ignore[attr-defined]
            values = row_values(target)
            binding = {"table": table_name, "id": str(values["id"]), "digest": row_digest(tree.h, table_name, values)}
            target.log_index = idx  # type: ignore[attr-defined]
        private = canonical_private(actor, subject, event.payload(), secrets.token_hex(16))
        leaf = canonical_leaf(idx, event.kind, at, private, tree.h, binding)
        leaf_hash = tree.leaf(leaf.encode())
        rows.append({"idx": idx, "kind": event.kind, "at": at, "actor": actor, "subject": subject, "leaf": leaf,
                     "private": private, "leaf_hash": leaf_hash})
        nodes.extend({"id": node_id(lv, ix), "hash": h} for lv, ix, h in compact.append(leaf_hash))
    conn.execute(insert(_table(AuditEvent)), rows)
    conn.execute(insert(_table(AuditNode)), nodes)
    ctx.appended = max(ctx.appended, start + len(events))
    return [r["idx"] for r in rows]


# -- reading the tree -----------------------------------------------------------------------------
_TREES: dict[str, Tree] = {}


def _tree(alg: str) -> Tree:
    if alg not in _TREES:
        _TREES[alg] = Tree(alg)
    return _TREES[alg]


def _state(ctx: Ctx) -> tuple[int, Tree]:
    state = _table(AuditLogState)
    row = ctx.session.connection().execute(select(state.c.size, state.c.hash_alg).where(state.c.id == 1)).one()
    return row.size, _tree(row.hash_alg or ctx.policy(AuditPolicy).hash_alg)


class NodeStore:
    """Perfect subtree hashes from ``audit_nodes``, fetched in one query per computation."""

    def __init__(self, ctx: Ctx) -> None:
        self.session = ctx.session
        self.cache: dict[int, bytes] = {}

    def run(self, compute: Callable[[Callable[[int, int], bytes]], object]):
        wanted: set[int] = set()

        def record_id(lo: int, hi: int) -> bytes:
            wanted.add(self._id(lo, hi))
            return b"\x00" * 32

        compute(record_id)  # dry run: which nodes does it need?
        missing = [i for i in wanted if i not in self.cache]
        table = _table(AuditNode)
        conn = self.session.connection()
        for chunk in (missing[i : i + 500] for i in range(0, len(missing), 500)):
            self.cache.update(conn.execute(select(table.c.id, table.c.hash).where(table.c.id.in_(chunk))).all())
        absent = [i for i in wanted if i not in self.cache]
        if absent:
            raise ProofError(f"{len(absent)} stored subtree hashes are missing; run `synthgov audit verify`")
        return compute(lambda lo, hi: self.cache[self._id(lo, hi)])

    @staticmethod
    def _id(lo: int, hi: int) -> int:
        assert is_perfect(lo, hi)
        level = (hi - lo).bit_length() - 1
        return node_id(level, lo >> level)


def root_at(ctx: Ctx, size: int, tree: Tree) -> bytes:
    return NodeStore(ctx).run(lambda sub: tree.subtree_root(0, size, sub))


def log_state(ctx: Ctx) -> tuple[int, Tree]:
    """(size, hash functions) of the log."""
    require(ctx.actor, AuditPermission.AUDIT_READ)
    return _state(ctx)


def consistency_hashes(ctx: Ctx, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency path between two sizes, from the stored hashes."""
    _, tree = log_state(ctx)
    return cast(list[bytes], NodeStore(ctx).run(lambda sub: tree.consistency_path(first, second, sub)))


def tree_head(ctx: Ctx, *, size: int | None = None) -> SignedTreeHead:
    """The signed head of the log now, or a kept head of ``size``. A read: a head of the current
    size that was not kept is signed for this answer and not stored (:func:`keep_tree_head` keeps one)."""
    return _head(ctx, size)[0]


def keep_tree_head(ctx: Ctx) -> SignedTreeHead:
    """Sign the head of the log now and keep it, so later heads can be proven consistent with it."""
    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    sth, _ = _head(ctx, None)
    if _kept(ctx, sth.size) is not None:
        return sth
    try:
        with ctx.session.begin_nested():
            ctx.session.add(AuditTreeHead(size=sth.size, root=bytes.fromhex(sth.root), hash_alg=sth.hash_alg,
                                          timestamp_ms=sth.timestamp_ms, sig_alg=sth.sig_alg, key_id=sth.key_id,
                                          public_key=sth.public_key, signature=sth.signature))
    except IntegrityError:  # another process kept a head for this size first
        kept = _kept(ctx, sth.size)
        assert kept is not None
        return kept
    return sth


def _kept(ctx: Ctx, size: int) -> SignedTreeHead | None:
    table = _table(AuditTreeHead)
    row = ctx.session.connection().execute(select(table).where(table.c.size == size)).one_or_none()
    return None if row is None else _sth(row)


def _head(ctx: Ctx, size: int | None) -> tuple[SignedTreeHead, Tree]:
    require(ctx.actor, AuditPermission.AUDIT_READ)
    current, tree = _state(ctx)
    if size is not None and size != current:
        kept = _kept(ctx, size)
        if kept is None:
            raise NotFound(f"no signed tree head was kept for size {size}; current size is {current}")
        return kept, tree
    kept = _kept(ctx, current)
    if kept is not None:
        return kept, tree
    signer, sig_alg = ctx.platform.keys.audit_signer()
    stamp = int(ctx.clock().timestamp() * 1000)
    return sign_tree_head(signer, sig_alg, tree.alg, current, root_at(ctx, current, tree), stamp), tree


def _sth(row) -> SignedTreeHead:
    return SignedTreeHead(row.size, row.root.hex(), row.hash_alg, row.timestamp_ms, row.sig_alg, row.key_id,
                          row.public_key, row.signature)


def prove_inclusion(ctx: Ctx, *, index: int, size: int | None = None) -> dict:
    sth, tree = _head(ctx, size)
    if not 0 <= index < sth.size:
        raise InvalidInput(f"entry {index} is not in the log of size {sth.size}")

    def compute(sub):  # the leaf hash is node (0, index): one query fetches it with the path
        return sub(index, index + 1), tree.inclusion_path(index, sth.size, sub)

    leaf_hash, path = NodeStore(ctx).run(compute)
    return {"index": index, "tree_size": sth.size, "leaf_hash": leaf_hash.hex(), "path": [p.hex() for p in path],
            "tree_head": sth.to_dict()}


def prove_consistency(ctx: Ctx, *, first: int, second: int | None = None) -> dict:
    sth, tree = _head(ctx, second)
    if not 0 < first <= sth.size:
        raise InvalidInput(f"first size must be between 1 and {sth.size}")
    path = NodeStore(ctx).run(lambda sub: tree.consistency_path(first, sth.size, sub))
    first_root = root_at(ctx, first, tree)
    return {"first": first, "second": sth.size, "first_root": first_root.hex(), "path": [p.hex() for p in path],
            "tree_head": sth.to_dict()}


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
    _, tree = _state(ctx)
    table = _table(AuditEvent)
    entry = ctx.session.execute(select(table.c.leaf, table.c.leaf_hash).where(table.c.idx == idx)).first()
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
    _, tree = _state(ctx)
    try:
        path = NodeStore(ctx).run(lambda sub: tree.inclusion_path(idx, checkpoint.size, sub))
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


# -- export ----------------------------------------------------------------------------------------
def export_lines(ctx: Ctx, *, start: datetime | None, end: datetime | None,
                 checkpoint: str | None = None) -> Iterator[str]:
    """JSON lines: a header, the entries whose time is in [start, end) as one contiguous run (leaf
    and private part), the hashes of the rest of the tree, the signed tree head that covers them
    all and, given one, the C2SP checkpoint of the same size with its cosignatures."""
    from synthgov.audit.notes import Checkpoint, parse_note

    require(ctx.actor, AuditPermission.AUDIT_READ)
    current, tree = _state(ctx)
    size = current
    if checkpoint is not None:
        size = Checkpoint.from_text(parse_note(checkpoint).text).size
        if size > current:
            raise InvalidInput(f"checkpoint of size {size} is larger than the log ({current})")
    signer, sig_alg = ctx.platform.keys.audit_signer()
    sth = sign_tree_head(signer, sig_alg, tree.alg, size, root_at(ctx, size, tree), int(ctx.clock().timestamp() * 1000))
    conds = []
    if start:
        conds.append(AuditEvent.at >= start)
    if end:
        conds.append(AuditEvent.at < end)
    lo, hi = ctx.session.execute(select(func.min(AuditEvent.idx), func.max(AuditEvent.idx)).where(
        and_(AuditEvent.idx < sth.size, *conds))).one()
    first, last = (lo, hi + 1) if lo is not None else (0, 0)
    yield json.dumps({"format": EXPORT_FORMAT, "version": 2, "hash_alg": tree.alg, "first": first, "last": last,
                      "tree_size": sth.size, "from": start.isoformat() if start else None,
                      "to": end.isoformat() if end else None})
    table = _table(AuditEvent)
    cursor = first
    while cursor < last:
        rows = ctx.session.execute(
            select(table.c.idx, table.c.leaf, table.c.private, table.c.leaf_hash)
            .where(table.c.idx >= cursor, table.c.idx < last).order_by(table.c.idx).limit(20_000)
        ).all()
        for idx, leaf, private, leaf_hash in rows:
            yield json.dumps({"index": idx, "leaf": leaf, "private": private, "leaf_hash": leaf_hash.hex()},
                             ensure_ascii=False)
        cursor = rows[-1][0] + 1
    ranges = outside_ranges(0, sth.size, first, last)
    store = NodeStore(ctx)
    hashes = [_subtree(store, tree, lo, hi) for lo, hi in ranges]
    yield json.dumps({"subtrees": [{"lo": lo, "hi": hi, "hash": h.hex()} for (lo, hi), h in zip(ranges, hashes,
                                                                                             strict=True)]})
    yield json.dumps({"tree_head": sth.to_dict()})
    if checkpoint is not None:
        yield json.dumps({"checkpoint": checkpoint}, ensure_ascii=False)


def _subtree(store: NodeStore, tree: Tree, lo: int, hi: int) -> bytes:
    return cast(bytes, store.run(lambda sub: tree.subtree_root(lo, hi, sub)))


def outside_ranges(lo: int, hi: int, first: int, last: int) -> list[tuple[int, int]]:
    """The RFC 9162 subtrees of [lo, hi) that lie wholly outside [first, last)."""
    from synthgov.audit.merkle import split

    if hi <= lo or hi <= first or lo >= last:
        return [(lo, hi)] if hi > lo else []
    if first <= lo and hi <= last:
        return []
    k = split(hi - lo)
    return outside_ranges(lo, lo + k, first, last) + outside_ranges(lo + k, hi, first, last)


# -- retention ------------------------------------------------------------------------------------
def purge_expired(ctx: Ctx, *, dry_run: bool = False) -> dict:
    """Empty the personal data of expired entries (keeping leaf hashes), except under legal hold."""
    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    policy = ctx.policy(AuditPolicy)
    now = ctx.clock()
    holds = list(ctx.session.scalars(select(AuditHold).where(AuditHold.released_at.is_(None))))
    held_subjects = {h.subject for h in holds if h.subject}
    held_kinds = {h.kind for h in holds if h.kind}
    kinds = [k for (k,) in ctx.session.execute(select(AuditEvent.kind).where(AuditEvent.purged_at.is_(None))
                                                .distinct())]
    by_kind: dict[str, int] = {}
    held = 0
    for kind in kinds:
        cutoff = now - timedelta(days=policy.retention(kind))
        base = and_(AuditEvent.kind == kind, AuditEvent.at < cutoff, AuditEvent.purged_at.is_(None))
        expired = ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(base)) or 0
        if not expired:
            continue
        if kind in held_kinds:
            held += expired
            continue
        hold = AuditEvent.subject.in_(held_subjects) if held_subjects else None
        if hold is not None:
            held += ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(base, hold)) or 0
            base = and_(base, or_(AuditEvent.subject.is_(None), ~AuditEvent.subject.in_(held_subjects)))
        count = ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(base)) or 0
        if count and not dry_run:
            # version 2 leaves stay (they hold nothing personal); version 1 leaves held it all
            v2 = AuditEvent.private.is_not(None)
            ctx.session.execute(update(AuditEvent).where(base, v2).values(
                private=None, actor=None, subject=None, purged_at=now))
            ctx.session.execute(update(AuditEvent).where(base, AuditEvent.leaf.is_not(None)).values(
                leaf=None, actor=None, subject=None, purged_at=now))
        if count:
            by_kind[kind] = count
    total = sum(by_kind.values())
    if total and not dry_run:
        record(ctx, AuditPurged(total, by_kind, held))
    return {"purged": total, "by_kind": by_kind, "held": held, "dry_run": dry_run}


def place_hold(ctx: Ctx, *, subject: str | None, kind: str | None, reason: str) -> AuditHold:
    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    if not (subject or kind) or not reason:
        raise InvalidInput("a hold needs a subject or an event kind, and a reason")
    hold = AuditHold(id=secrets.token_hex(6), subject=subject, kind=kind, reason=reason, created_at=ctx.clock(),
                     created_by=ctx.actor.ref)
    ctx.session.add(hold)
    record(ctx, HoldPlaced(hold.id, subject, kind, reason))
    return hold


def release_hold(ctx: Ctx, *, hold_id: str) -> AuditHold:
    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    hold = ctx.session.get(AuditHold, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id!r}")
    if hold.released_at is None:
        hold.released_at = ctx.clock()
        record(ctx, HoldReleased(hold_id))
    return hold


def list_holds(ctx: Ctx) -> list[AuditHold]:
    require(ctx.actor, AuditPermission.AUDIT_READ)
    return list(ctx.session.scalars(select(AuditHold).order_by(AuditHold.created_at)))


def entries(ctx: Ctx, *, indexes: Iterable[int]) -> list[AuditEvent]:
    require(ctx.actor, AuditPermission.AUDIT_READ)
    return list(ctx.session.scalars(select(AuditEvent).where(AuditEvent.idx.in_(list(indexes)))))
