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
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from synthgov.audit.binding import row_digest, row_values
from synthgov.audit.events import AuditPurged, HoldPlaced, HoldReleased
from synthgov.audit.merkle import CompactRange, ProofError, Tree, frontier, is_perfect
from synthgov.audit.models import AuditEvent, AuditHold, AuditLogState, AuditNode, AuditTreeHead
from synthgov.audit.permissions import AuditPermission
from synthgov.audit.policy import AuditPolicy
from synthgov.audit.signing import SignedTreeHead, sign_tree_head
from synthgov.context import Ctx
from synthgov.errors import InvalidInput, NotFound
from synthgov.events import Event
from synthgov.inputs import check_text, lookable
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
        if self.cache:  # prefetched (a batch): most computations need nothing more
            try:
                return compute(lambda lo, hi: self.cache[self._id(lo, hi)])
            except KeyError:
                pass
        self.prefetch([compute])
        return compute(lambda lo, hi: self.cache[self._id(lo, hi)])

    def prefetch(self, computes: Iterable[Callable[[Callable[[int, int], bytes]], object]]) -> None:
        """Fetch every stored hash the ``computes`` will ask for, in as few queries as the ids need
        (a batch of inclusion paths: one query, not one per path); ProofError if any is missing."""
        wanted: set[int] = set()

        def record_id(lo: int, hi: int) -> bytes:
            wanted.add(self._id(lo, hi))
            return b"\x00" * 32

        for compute in computes:
            compute(record_id)  # dry run: which nodes does it need?
        missing = sorted(i for i in wanted if i not in self.cache)
        table = _table(AuditNode)
        conn = self.session.connection()
        for chunk in (missing[i : i + 500] for i in range(0, len(missing), 500)):
            self.cache.update(conn.execute(select(table.c.id, table.c.hash).where(table.c.id.in_(chunk))).all())
        absent = [i for i in wanted if i not in self.cache]
        if absent:
            raise ProofError(f"{len(absent)} stored subtree hashes are missing; run `synthgov audit verify`")

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
    check_text("hold subject", subject or None, 128)
    check_text("hold event kind", kind or None, 64)
    check_text("hold reason", reason, 4000, lines=True)
    hold = AuditHold(id=secrets.token_hex(6), subject=subject, kind=kind, reason=reason, created_at=ctx.clock(),
                     created_by=ctx.actor.ref)
    ctx.session.add(hold)
    record(ctx, HoldPlaced(hold.id, subject, kind, reason))
    return hold


def release_hold(ctx: Ctx, *, hold_id: str) -> AuditHold:
    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    hold = ctx.session.get(AuditHold, hold_id) if lookable(hold_id, 16) else None
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
