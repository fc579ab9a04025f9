"""What an adversary with write access to the database does, for the tamper and witness tests."""

import json

from sqlalchemy import delete, select, update

from synthgov.audit import service, verification
from synthgov.audit.merkle import CompactRange, Tree
from synthgov.audit.models import AuditEvent, AuditLogState, AuditNode, AuditTreeHead
from synthgov.audit.service import node_id
from synthgov.labeling.service import label_content
from synthgov.records.models import GenerationRecord


def label(platform, operator, samples, n=1, user="alice"):
    outs = []
    for _ in range(n):
        with platform.unit_of_work(operator) as ctx:
            outs.append(label_content(ctx, data=samples["photo.gif"], visible=False, user=user))
    return outs


def check(platform, operator, **kwargs):
    return verification.verify(platform, operator, **kwargs)


def tamper(platform, statement):
    with platform.sessionmaker() as s, s.begin():
        s.execute(statement)


def truncate(platform, keep: int):
    """Drop the newest entries and their nodes, lower the size and delete the database's own heads."""
    tamper(platform, delete(AuditEvent).where(AuditEvent.idx >= keep))
    with platform.sessionmaker() as s, s.begin():
        for node in s.scalars(select(AuditNode)):
            level, index = node.id >> 48, node.id & ((1 << 48) - 1)
            if (index + 1) << level > keep:
                s.delete(node)
        s.execute(update(AuditLogState).values(size=keep))
        s.execute(delete(AuditTreeHead))
        s.execute(delete(GenerationRecord).where(GenerationRecord.log_index >= keep))


def rewrite(platform, idx: int, actor: str):
    """Rewrite one entry's private part and leaf, recompute its hash and every stored node (a
    history rewritten consistently inside the database)."""
    with platform.sessionmaker() as s, s.begin():
        row = s.get(AuditEvent, idx)
        tree = Tree("sm3")
        private = json.loads(row.private)
        private["actor"] = actor
        row.private = service.canonical_private(private["actor"], private["subject"], private["payload"],
                                                private["nonce"])
        leaf = json.loads(row.leaf)
        row.actor = actor
        row.leaf = service.canonical_leaf(idx, row.kind, row.at, row.private, tree.h, leaf.get("row"))
        row.leaf_hash = tree.leaf(row.leaf.encode())
        s.flush()
        s.execute(delete(AuditNode))
        compact = CompactRange(tree)
        for leaf_hash in s.scalars(select(AuditEvent.leaf_hash).order_by(AuditEvent.idx)):
            for level, index, h in compact.append(leaf_hash):
                s.add(AuditNode(id=node_id(level, index), hash=h))
        s.execute(delete(AuditTreeHead))
        return compact.size, compact.root()


