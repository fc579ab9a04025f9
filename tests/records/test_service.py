"""Generation records: reads are permission-checked wherever they are composed."""

import pytest
from fastapi.testclient import TestClient

from synthgov.api import create_app
from synthgov.errors import Forbidden, NotFound
from synthgov.identity.service import create_api_key
from synthgov.labeling.service import label_content
from synthgov.permissions import Actor, ActorKind
from synthgov.records import service
from synthgov.records.schemas import RecordOut, RecordRef
from synthgov.tracing.service import inspect_content

INSPECT_ONLY = Actor(ActorKind.API_KEY, "inspector", frozenset({"inspect"}))


def test_get_needs_record_read(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["photo.gif"], user="alice")
        assert service.get(ctx, produce_id=outcome.record.produce_id).user_ref == "alice"
        with pytest.raises(NotFound):
            service.get(ctx, produce_id="x" * 500)
    with pytest.raises(Forbidden), platform.unit_of_work(INSPECT_ONLY) as ctx:
        service.get(ctx, produce_id=outcome.record.produce_id)


def test_an_inspect_only_actor_learns_the_record_exists_not_who_it_was_for(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["photo.png"], user="alice", watermark=True)
    with platform.unit_of_work(INSPECT_ONLY) as ctx:
        finding = inspect_content(ctx, data=outcome.data).labels[0]
        deep = inspect_content(ctx, data=outcome.data, deep=True)
    assert isinstance(finding.record, RecordRef) and finding.record.id == outcome.record.id
    assert "alice" not in str(finding.record.model_dump()) and finding.record.restricted
    assert isinstance(deep.watermark.record, RecordRef)
    assert all(isinstance(m.record, RecordRef) for m in deep.fingerprint_matches)
    assert "alice" not in str(deep.to_dict())
    with platform.unit_of_work(operator) as ctx:
        full = inspect_content(ctx, data=outcome.data).labels[0].record
    assert isinstance(full, RecordOut) and full.user_ref == "alice"


def test_the_api_applies_the_same_rule(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        token = create_api_key(ctx, name="inspector", permissions=["inspect"]).token
        outcome = label_content(ctx, data=samples["photo.gif"], user="bob")
    client = TestClient(create_app(platform), headers={"Authorization": f"Bearer {token}"})
    r = client.post("/v1/inspections", files={"file": ("a.gif", outcome.data)})
    assert r.status_code == 200
    record = r.json()["labels"][0]["record"]
    assert record["id"] == outcome.record.id and record["restricted"] is True and "user_ref" not in record
    assert client.get(f"/v1/records/{outcome.record.produce_id}").status_code == 403


def test_watermark_payloads_are_looked_up_per_scheme(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["photo.png"], visible=False)
        payload = outcome.record.watermark_payload
        assert outcome.record.watermark_scheme == "image/keyed-ss-v2"
        assert service.by_watermark(ctx, scheme="image/keyed-ss-v2", payload=payload).id == outcome.record.id
        assert service.by_watermark(ctx, scheme="video/keyed-ss-v2", payload=payload) is None
