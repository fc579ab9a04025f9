"""The HTTP surface: auth, labeling, inspection, records, and problem+json for every bad input."""

import pytest
from fastapi.testclient import TestClient

from synthgov.api import create_app
from synthgov.identity.service import create_api_key, revoke_api_key
from synthgov.records.models import GenerationRecord
from tests.conftest import count_rows
from tests.modalities.image.test_bad_input import BILLION_LAUGHS, bomb_png, with_xmp


@pytest.fixture
def api(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        token = create_api_key(ctx, name="tests").token
    client = TestClient(create_app(platform), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    client.token = token
    return client


def test_openapi_and_docs(api):
    assert api.get("/docs").status_code == 200
    spec = api.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"create_label", "create_inspection", "get_record", "health"} <= ops


def test_auth_required(api, samples):
    anon = TestClient(api.app)
    r = anon.post("/v1/labels", files={"file": ("a.png", samples["photo.png"], "image/png")})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = anon.get("/v1/records/x", headers={"Authorization": "Bearer sg_nope_nope"})
    assert r.status_code == 401


def test_revoked_key_is_refused(api, platform, operator):
    with platform.unit_of_work(operator) as ctx:
        revoke_api_key(ctx, key_id=api.token.split("_")[1])
    assert api.get("/v1/records/x").status_code == 401


def test_label_inspect_and_record(api, samples, platform):
    r = api.post("/v1/labels", files={"file": ("photo.jpg", samples["photo.jpg"], "image/jpeg")},
                 data={"user": "u-7", "visible": "true"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    produce_id = r.headers["X-Synthgov-Produce-Id"]
    inspection = api.post("/v1/inspections", files={"file": ("x.jpg", r.content, "image/jpeg")}).json()
    assert inspection["status"] == "labeled"
    assert inspection["labels"][0]["record"]["produce_id"] == produce_id
    assert inspection["labels"][0]["signature"]["verdict"] == "valid"
    record = api.get(f"/v1/records/{produce_id}").json()
    assert record["user_ref"] == "u-7" and record["id"] == r.headers["X-Synthgov-Record-Id"]
    assert api.get("/v1/records/unknown").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("empty.png", b"", 422),
        ("doc.png", b"just text", 415),
        ("cut.jpg", "cut", 422),
        ("bomb.png", bomb_png(), 422),
        ("xxe.png", "xxe", 422),
        ("photo.png", "renamed", 422),
    ],
)
def test_bad_uploads_are_problems_and_leave_no_record(api, samples, platform, name, content, status):
    if content == "cut":
        content = samples["photo.jpg"][:5000]
    elif content == "xxe":
        content = with_xmp(samples, BILLION_LAUGHS)
    elif content == "renamed":
        content = samples["photo.jpg"]
    for path in ("/v1/labels", "/v1/inspections"):
        r = api.post(path, files={"file": (name, content, "application/octet-stream")})
        if path == "/v1/inspections" and name == "photo.png":
            continue  # inspection does not care about names
        if path == "/v1/inspections" and name == "cut.jpg":  # reading is lenient: the damage is reported
            assert r.status_code == 200 and r.json()["problems"][0].startswith("container damaged: JPEG is truncated")
            continue
        assert r.status_code == status, (path, r.text)
        body = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert body["status"] == status and body["detail"]
    assert count_rows(platform, GenerationRecord) == 0


@pytest.mark.parametrize("user", ["a\x00b", "two\nlines", "x" * 257])
def test_a_bad_user_reference_is_a_problem_and_leaves_no_record(api, samples, platform, user):
    r = api.post("/v1/labels", files={"file": ("a.png", samples["photo.png"], "image/png")}, data={"user": user})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert count_rows(platform, GenerationRecord) == 0
    assert api.get("/v1/records/a%00b").status_code == 404  # a ProduceID with a NUL names no record


def test_missing_file_and_oversized_upload(api, reconfigure, samples):
    r = api.post("/v1/labels", data={"user": "x"})
    assert r.status_code == 422 and r.json()["title"] == "Invalid request"
    small = TestClient(create_app(reconfigure(max_input_bytes=2000)), raise_server_exceptions=False)
    small.headers["Authorization"] = api.headers["Authorization"]
    r = small.post("/v1/labels", files={"file": ("a.png", samples["photo.png"], "image/png")})
    assert r.status_code == 413


def test_health(api):
    assert api.get("/healthz").json()["demo"] is True
    assert "DEMO provider profile" in api.get("/").text


def test_audit_endpoints(api, samples):
    api.post("/v1/labels", files={"file": ("a.png", samples["photo.png"], "image/png")}, data={"visible": "false"})
    head = api.get("/v1/audit/tree-head")
    assert head.status_code == 403  # default API keys cannot read the audit log


@pytest.fixture
def auditor(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        token = create_api_key(ctx, name="auditor", permissions=["audit:read"]).token
    client = TestClient(create_app(platform), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_audit_tree_head_and_proofs(api, auditor, samples):
    from synthgov.audit.merkle import Tree

    for _ in range(3):
        api.post("/v1/labels", files={"file": ("a.png", samples["photo.png"], "image/png")}, data={"visible": "false"})
    head = auditor.get("/v1/audit/tree-head").json()
    assert head["size"] == 6  # provider.configured, two apikey.created, three content.labeled
    proof = auditor.get("/v1/audit/proofs/inclusion", params={"index": 2}).json()
    Tree(head["hash_alg"]).verify_inclusion(2, head["size"], bytes.fromhex(proof["leaf_hash"]),
                                           [bytes.fromhex(p) for p in proof["path"]], bytes.fromhex(head["root"]))
    cons = auditor.get("/v1/audit/proofs/consistency", params={"first": 2}).json()
    assert cons["second"] == 6
    bad = auditor.get("/v1/audit/proofs/inclusion", params={"index": 99})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert auditor.get("/v1/audit/proofs/inclusion", params={"index": -1}).status_code == 422
    assert auditor.get("/v1/audit/tree-head", params={"size": 3}).status_code == 404


def test_the_server_loads_the_heavy_backends_at_start_not_on_a_first_request(platform):
    """A command that reads only metadata starts without numpy and the watermark code; a server
    loads them before it serves, so no request pays for the imports (a fresh process: this one
    has them already)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from synthgov.api import create_app\n"
        "from synthgov.bootstrap import open_platform\n"
        "from synthgov.config import load_settings\n"
        "platform = open_platform(load_settings(data_dir=sys.argv[1], database_url=sys.argv[2]))\n"
        "before = 'numpy' in sys.modules\n"
        "with TestClient(create_app(platform)):\n"
        "    print(before, 'numpy' in sys.modules, 'synthgov.modalities.image.watermark.detection' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(platform.settings.data_dir),
                          platform.settings.database_url or ""], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True"]
