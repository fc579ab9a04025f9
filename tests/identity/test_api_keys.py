"""API keys: secrets shown once and stored hashed, permissions named by the domains' manifests,
authentication and revocation, and every change in the audit log."""

import hashlib

import pytest
from sqlalchemy import select

from synthgov.audit.models import AuditEvent
from synthgov.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from synthgov.identity.models import ApiKey
from synthgov.identity.service import authenticate, create_api_key, list_api_keys, revoke_api_key
from synthgov.permissions import Actor, ActorKind


def test_create_stores_only_a_hash_and_grants_the_defaults(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        new = create_api_key(ctx, name="svc")
    with platform.sessionmaker() as s:
        row = s.get(ApiKey, new.key.id)
        assert row.secret_sha256 == hashlib.sha256(new.token.encode()).hexdigest()
        assert new.token not in repr(row.__dict__)
    assert sorted(new.key.permissions) == sorted(p.value for p in platform.domains.default_grants)
    assert set(new.key.permissions) == {"inspect", "label:create", "record:read"}


def test_permissions_come_from_the_manifests(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        new = create_api_key(ctx, name="auditor", permissions=["audit:read"])
        with pytest.raises(InvalidInput, match="unknown permission 'audit:raed'.*audit:read"):
            create_api_key(ctx, name="typo", permissions=["audit:raed"])
    with platform.unit_of_work(Actor(ActorKind.SYSTEM, "auth")) as ctx:
        actor = authenticate(ctx, token=new.token)
    assert actor.permissions == frozenset({"audit:read"}) and actor.can("audit:read") and not actor.can("inspect")


def test_revoked_and_forged_tokens_are_refused(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        new = create_api_key(ctx, name="x")
        revoke_api_key(ctx, key_id=new.key.id)
        with pytest.raises(NotFound):
            revoke_api_key(ctx, key_id="nope")
    system = Actor(ActorKind.SYSTEM, "auth")
    for token in (new.token, new.token[:-1] + "A", "sg_x", "not-a-token", "sg_" + "a" * 300):
        with pytest.raises(Unauthenticated), platform.unit_of_work(system) as ctx:
            authenticate(ctx, token=token)


def test_key_management_needs_its_permission_and_is_logged(platform, operator):
    stranger = Actor(ActorKind.API_KEY, "k", frozenset({"inspect"}))
    with pytest.raises(Forbidden), platform.unit_of_work(stranger) as ctx:
        create_api_key(ctx, name="sneaky")
    with pytest.raises(Forbidden), platform.unit_of_work(stranger) as ctx:
        list_api_keys(ctx)
    with platform.unit_of_work(operator) as ctx:
        new = create_api_key(ctx, name="logged")
        revoke_api_key(ctx, key_id=new.key.id)
        revoke_api_key(ctx, key_id=new.key.id)  # a second revocation changes nothing and logs nothing
    with platform.sessionmaker() as s:
        kinds = [k for (k,) in s.execute(select(AuditEvent.kind).where(AuditEvent.subject == new.key.id))]
    assert kinds == ["apikey.created", "apikey.revoked"]


def test_names_are_bounded(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        for name in ("", "x" * 129):
            with pytest.raises(InvalidInput):
                create_api_key(ctx, name=name)


@pytest.mark.parametrize("name", ["a\x00b", "two\nlines", "n" * 129, ""])
def test_a_hostile_key_name_is_refused_before_anything_is_written(platform, operator, name):
    with pytest.raises(InvalidInput, match="key name must"), platform.unit_of_work(operator) as ctx:
        create_api_key(ctx, name=name)
    with platform.unit_of_work(operator) as ctx:
        assert list_api_keys(ctx) == []


@pytest.mark.parametrize("key_id", ["a\x00b", "k" * 40])
def test_an_id_that_cannot_name_a_key_is_simply_not_found(platform, operator, key_id):
    with pytest.raises(NotFound), platform.unit_of_work(operator) as ctx:
        revoke_api_key(ctx, key_id=key_id)
    with pytest.raises(Unauthenticated), platform.unit_of_work(Actor(ActorKind.SYSTEM, "auth")) as ctx:
        authenticate(ctx, token=f"sg_{key_id}_secret")
