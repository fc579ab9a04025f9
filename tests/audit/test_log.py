"""The audit log in the database: appends in the action's transaction, proofs, verification, retention."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from synthgov.audit import checks, service
from synthgov.audit.merkle import Tree
from synthgov.audit.models import AuditEvent, AuditNode
from synthgov.audit.signing import verify_tree_head
from synthgov.errors import Forbidden, InvalidInput
from synthgov.identity.events import ApiKeyRevoked
from synthgov.labeling.service import label_content
from synthgov.permissions import Actor, ActorKind
from tests.conftest import count_rows

INIT = 1  # `synthgov init` logged provider.configured as entry 0


def append(platform, operator, n, batch=False):
    with platform.unit_of_work(operator) as ctx:
        events = [ApiKeyRevoked(f"k{i}") for i in range(n)]
        return service.record_many(ctx, events) if batch else [service.record(ctx, e) for e in events]


def test_entries_are_contiguous_and_tree_verifies(platform, operator):
    assert append(platform, operator, 5) == [1, 2, 3, 4, 5]
    assert append(platform, operator, 100, batch=True)[0] == 6
    with platform.unit_of_work(operator) as ctx:
        result = checks.verify_log(ctx)
        head = service.tree_head(ctx)
    assert result.ok, result.problems
    assert result.entries == head.size == 106
    assert verify_tree_head(head)
    with platform.sessionmaker() as s:
        leaves = [r.leaf_hash for r in s.query(AuditEvent).order_by(AuditEvent.idx)]
    assert Tree(head.hash_alg).root(leaves)[1].hex() == head.root


def test_labeling_appends_in_the_same_transaction(platform, operator, samples):
    with pytest.raises(RuntimeError), platform.unit_of_work(operator) as ctx:
        label_content(ctx, data=samples["photo.png"], visible=False)
        raise RuntimeError("the action fails after its event was appended")
    with platform.unit_of_work(operator) as ctx:
        assert service.tree_head(ctx).size == INIT
        label_content(ctx, data=samples["photo.png"], visible=False)
    with platform.unit_of_work(operator) as ctx:
        (entry,) = service.entries(ctx, indexes=[INIT])
        assert entry.kind == "content.labeled" and json.loads(entry.leaf)["idx"] == INIT


def test_inclusion_and_consistency_proofs(platform, operator):
    append(platform, operator, 37, batch=True)
    with platform.unit_of_work(operator) as ctx:
        old = service.keep_tree_head(ctx)
    append(platform, operator, 20)
    with platform.unit_of_work(operator) as ctx:
        proof = service.prove_inclusion(ctx, index=11)
        consistency = service.prove_consistency(ctx, first=old.size)
        old_proof = service.prove_inclusion(ctx, index=3, size=old.size)
    tree = Tree(proof["tree_head"]["hash_alg"])
    tree.verify_inclusion(11, 58, bytes.fromhex(proof["leaf_hash"]), [bytes.fromhex(p) for p in proof["path"]],
                          bytes.fromhex(proof["tree_head"]["root"]))
    assert consistency["first_root"] == old.root
    tree.verify_consistency(38, 58, bytes.fromhex(old.root), bytes.fromhex(consistency["tree_head"]["root"]),
                            [bytes.fromhex(p) for p in consistency["path"]])
    assert old_proof["tree_head"]["root"] == old.root
    with platform.unit_of_work(operator) as ctx, pytest.raises(InvalidInput):
        service.prove_inclusion(ctx, index=58)


def test_verify_finds_edits_gaps_and_bad_heads(platform, operator):
    append(platform, operator, 10)
    with platform.unit_of_work(operator) as ctx:
        service.keep_tree_head(ctx)
    with platform.sessionmaker() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.idx == 4).values(leaf='{"edited":true}'))
    with platform.unit_of_work(operator) as ctx:
        assert checks.verify_log(ctx).problems == ["entry 4: content does not match its leaf hash (edited)"]
    with platform.sessionmaker() as s, s.begin():  # an editor who also fixes the leaf hash breaks the signed head
        row = s.get(AuditEvent, 4)
        row.leaf_hash = Tree("sm3").leaf(row.leaf.encode())
    with platform.unit_of_work(operator) as ctx:
        problems = checks.verify_log(ctx).problems
    assert "signed tree head of size 11 does not match the entries" in problems
    with platform.sessionmaker() as s, s.begin():
        s.delete(s.get(AuditEvent, 7))
    with platform.unit_of_work(operator) as ctx:
        assert checks.verify_log(ctx).problems[-1] == "entries 7..7 are missing"


def test_ed25519_tree_heads(reconfigure, operator, settings):
    from synthgov.audit.signing import Ed25519Signer

    key = settings.resolved_audit_key_file
    key.write_bytes(Ed25519Signer.generate().to_pem())
    platform = reconfigure(audit_signature="ed25519")
    append(platform, operator, 3)
    with platform.unit_of_work(operator) as ctx:
        head = service.tree_head(ctx)
    assert head.sig_alg == "ed25519" and verify_tree_head(head)
    forged = type(head)(**(head.to_dict() | {"root": "00" * 32}))
    assert not verify_tree_head(forged)


def test_retention_purges_personal_data_keeps_hashes_and_holds(platform, operator):
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    platform.clock = lambda: now
    with platform.unit_of_work(operator) as ctx:
        service.record_many(ctx, [ApiKeyRevoked("a"), ApiKeyRevoked("b"), ApiKeyRevoked("c")])
        service.place_hold(ctx, subject="b", kind=None, reason="court order 42")
    platform.clock = lambda: now + timedelta(days=100)
    with platform.unit_of_work(operator) as ctx:
        assert service.purge_expired(ctx)["purged"] == 0  # six months not yet over
    platform.clock = lambda: now + timedelta(days=200)
    with platform.unit_of_work(operator) as ctx:
        assert service.purge_expired(ctx, dry_run=True) == {"purged": 3, "by_kind": {"apikey.revoked": 2,
                                                            "audit.hold_placed": 1}, "held": 1, "dry_run": True}
        result = service.purge_expired(ctx)
    assert result["purged"] == 3 and result["held"] == 1
    with platform.unit_of_work(operator) as ctx:
        rows = {e.idx: e for e in service.entries(ctx, indexes=range(7))}
        verification = checks.verify_log(ctx)
    # the private part (actor, subject, payload) is gone; the leaf still vouches for kind and time
    assert rows[1].private is None and rows[1].payload is None and rows[1].actor is None and rows[1].subject is None
    assert json.loads(rows[1].leaf)["kind"] == rows[1].kind == "apikey.revoked" and rows[1].purged_at is not None
    assert rows[2].subject == "b" and rows[2].private is not None  # held
    assert rows[5].kind == "audit.purged" and rows[5].payload["purged"] == 3
    assert verification.ok and verification.purged == 3


def test_retention_cannot_be_shorter_than_six_months(tmp_path):
    from synthgov.config import load_settings
    from synthgov.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="audit_retention_days"):
        load_settings(data_dir=tmp_path, audit_retention_days=30)
    with pytest.raises(ConfigurationError, match="at least 183 days"):
        load_settings(data_dir=tmp_path, audit_retention_by_kind={"content.labeled": 10})


def test_permissions(platform):
    nobody = Actor(ActorKind.API_KEY, "k", frozenset())
    with pytest.raises(Forbidden), platform.unit_of_work(nobody) as ctx:
        service.tree_head(ctx)
    reader = Actor(ActorKind.API_KEY, "r", frozenset({"audit:read"}))
    with pytest.raises(Forbidden), platform.unit_of_work(reader) as ctx:
        service.keep_tree_head(ctx)


def test_reading_a_tree_head_writes_nothing(platform, operator):
    from synthgov.audit.models import AuditTreeHead

    append(platform, operator, 3)
    reader = Actor(ActorKind.API_KEY, "r", frozenset({"audit:read"}))
    with platform.unit_of_work(reader) as ctx:
        head = service.tree_head(ctx)
    assert head.size == 4 and verify_tree_head(head)
    assert count_rows(platform, AuditTreeHead) == 0
    with platform.unit_of_work(operator) as ctx:
        kept = service.keep_tree_head(ctx)
    assert count_rows(platform, AuditTreeHead) == 1
    with platform.unit_of_work(reader) as ctx:
        assert service.tree_head(ctx) == kept  # the kept head answers from now on


def test_nodes_are_stored_for_proofs(platform, operator):
    append(platform, operator, 8, batch=True)
    with platform.sessionmaker() as s:
        assert s.query(AuditNode).count() == 9 + 4 + 2 + 1  # 9 leaves (init + 8), 4 + 2 + 1 parents


def test_the_leaf_is_the_canonical_json_and_verification_takes_the_fast_path(platform, operator, samples):
    """canonical_leaf is written by hand (verification rebuilds it per entry); it must stay the
    exact canonical JSON, and an honest entry must pass the re-encoding check without parsing."""
    from synthgov.audit.checks import _fast_check
    from synthgov.audit.service import _ENCODER, _tree

    with platform.unit_of_work(operator) as ctx:
        label_content(ctx, data=samples["photo.gif"], visible=False)
        service.record(ctx, ApiKeyRevoked("ünïcode \"quoted\""))
    tree = _tree("sm3")
    with platform.sessionmaker() as s:
        rows = s.query(AuditEvent).order_by(AuditEvent.idx).all()
        for r in rows:
            fields = json.loads(r.leaf)
            assert r.leaf == _ENCODER.encode(fields)  # canonical: keys sorted, no spaces, non-ASCII kept
            columns = (r.idx, r.kind, r.at, r.actor, r.subject, r.leaf, r.private, r.leaf_hash, r.purged_at)
            assert _fast_check(tree, columns) == (True, fields.get("row"))
        assert json.loads(rows[1].leaf)["row"]["table"] == "generation_records"


@pytest.mark.parametrize(("subject", "kind", "reason", "message"), [
    ("a\x00b", None, "r", "hold subject must not hold control characters"),
    ("s" * 129, None, "r", "hold subject must be 1 to 128 characters"),
    (None, "k" * 65, "r", "hold event kind must be 1 to 64 characters"),
    ("s", None, "court\x00order", "hold reason must not hold control characters"),
])
def test_a_hostile_hold_is_refused_before_anything_is_written(platform, operator, subject, kind, reason, message):
    with pytest.raises(InvalidInput, match=message), platform.unit_of_work(operator) as ctx:
        service.place_hold(ctx, subject=subject, kind=kind, reason=reason)
    with platform.unit_of_work(operator) as ctx:
        assert service.list_holds(ctx) == []
        held = service.place_hold(ctx, subject="s", kind=None, reason="court order 42\nsecond line, kept")
    assert held.reason.endswith("kept")
    from synthgov.errors import NotFound

    with pytest.raises(NotFound), platform.unit_of_work(operator) as ctx:
        service.release_hold(ctx, hold_id="h\x00")
