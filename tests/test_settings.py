"""Every setting has an effect: one probe per documented setting, and a test that fails when a
setting is added without one. Bootstrap turns settings into policies, handler configs and a key
ring; these probes change a setting and observe the behaviour, not the object."""

import io
import secrets
import threading
from datetime import timedelta

import pytest
from PIL import Image

from synthgov.audit import service as audit
from synthgov.config import Settings, load_settings
from synthgov.errors import HostileInput, TooLarge
from synthgov.labeling.service import label_content
from synthgov.modalities.image import ImageHandler
from synthgov.permissions import Actor
from synthgov.provenance.codes import make_provider_code
from synthgov.provenance.label import AigcLabel, signed_message
from synthgov.provenance.signing import Sm2Signer
from synthgov.storage import migrate
from synthgov.tracing.service import inspect_content
from synthgov.watermarking.keys import scheme_key

OP = Actor.operator("settings")


def label(plat, data, **kwargs):
    with plat.unit_of_work(OP) as ctx:
        return label_content(ctx, data=data, **kwargs)


def inspect(plat, data):
    with plat.unit_of_work(OP) as ctx:
        return inspect_content(ctx, data=data)


def reencoded(data: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def probe_data_dir(reconfigure, samples, tmp_path):
    (tmp_path / "synthgov.toml").write_text('service_name = "from-the-data-dir"\n')
    assert load_settings(data_dir=tmp_path).service_name == "from-the-data-dir"
    assert str(tmp_path) in load_settings(data_dir=tmp_path).resolved_database_url


def probe_database_url(reconfigure, samples, tmp_path):
    plat = reconfigure(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(plat.engine)
    label(plat, samples["photo.png"], visible=False, watermark=False)
    assert (tmp_path / "other.db").stat().st_size > 0


def probe_demo(reconfigure, samples, tmp_path):
    assert label(reconfigure(demo=True), samples["photo.gif"], visible=False).record.demo is True
    assert label(reconfigure(demo=False), samples["photo.gif"], visible=False).record.demo is False


def probe_provider_name(reconfigure, samples, tmp_path):
    from fastapi.testclient import TestClient

    from synthgov.api import create_app

    assert "Example Co." in TestClient(create_app(reconfigure(provider_name="Example Co."))).get("/").text


def probe_provider_code(reconfigure, samples, tmp_path):
    code = make_provider_code("91440300708461136T", service_code="XGW3")
    assert label(reconfigure(provider_code=code), samples["photo.gif"], visible=False).label.ContentProducer == code


def probe_service_name(reconfigure, samples, tmp_path):
    assert label(reconfigure(service_name="svc-x"), samples["photo.gif"], visible=False).record.service == "svc-x"


def probe_model_name(reconfigure, samples, tmp_path):
    assert label(reconfigure(model_name="model-y"), samples["photo.gif"], visible=False).record.model == "model-y"


def probe_signing(reconfigure, samples, tmp_path):
    outcome = label(reconfigure(signing=False), samples["photo.gif"], visible=False)
    assert outcome.label.ReservedCode1 == "" and outcome.record.key_id is None


def probe_signing_key_file(reconfigure, samples, tmp_path):
    other = Sm2Signer.generate()
    (tmp_path / "other.pem").write_bytes(other.to_pem())
    outcome = label(reconfigure(signing_key_file=tmp_path / "other.pem"), samples["photo.gif"], visible=False)
    assert outcome.record.key_id == other.key_id


def probe_pinned_keys(reconfigure, samples, tmp_path):
    other = Sm2Signer.generate()
    producer = make_provider_code("91440300708461136T", service_code="XGW3")
    lab = AigcLabel.first_write(label="1", producer=producer, produce_id="p",
                                reserved1=other.security_data(signed_message("1", producer, "p")))
    data = ImageHandler().write_label(samples["photo.gif"], lab)
    assert inspect(reconfigure(), data).labels[0].signature.verdict == "integrity-only"
    assert inspect(reconfigure(pinned_keys=[other.spki.hex()]), data).labels[0].signature.verdict == "valid"


def probe_visible_label_text(reconfigure, samples, tmp_path):
    outcome = label(reconfigure(visible_label_text="人工智能生成"), samples["photo.png"], watermark=False)
    assert outcome.geometry["text"] == "人工智能生成"


def probe_visible_label_position(reconfigure, samples, tmp_path):
    outcome = label(reconfigure(visible_label_position="top-left"), samples["photo.png"], watermark=False)
    assert outcome.geometry["position"] == "top-left" and outcome.geometry["box"][:2] == [8, 8]


def probe_visible_label_height_ratio(reconfigure, samples, tmp_path):
    outcome = label(reconfigure(visible_label_height_ratio=0.1), samples["photo.png"], watermark=False)
    assert outcome.geometry["ink_ratio"] >= 0.1


def probe_audit_hash(reconfigure, samples, tmp_path):
    plat = reconfigure(database_url=f"sqlite:///{tmp_path / 'sha.db'}", audit_hash="sha256")
    migrate.upgrade(plat.engine)
    label(plat, samples["photo.gif"], visible=False)
    with plat.unit_of_work(OP) as ctx:
        assert audit.tree_head(ctx).hash_alg == "sha256"


def probe_audit_signature(reconfigure, samples, tmp_path):
    from synthgov.audit.signing import Ed25519Signer

    (tmp_path / "ed.pem").write_bytes(Ed25519Signer.generate().to_pem())
    plat = reconfigure(audit_signature="ed25519", audit_key_file=tmp_path / "ed.pem")
    with plat.unit_of_work(OP) as ctx:
        assert audit.tree_head(ctx).sig_alg == "ed25519"


def probe_audit_key_file(reconfigure, samples, tmp_path):
    from synthgov.audit.signing import Ed25519Signer

    key = Ed25519Signer.generate()
    (tmp_path / "ed2.pem").write_bytes(key.to_pem())
    plat = reconfigure(audit_signature="ed25519", audit_key_file=tmp_path / "ed2.pem")
    with plat.unit_of_work(OP) as ctx:
        assert audit.tree_head(ctx).key_id == key.key_id


def _purgeable(plat, days_later: int) -> int:
    now = plat.clock()
    plat.clock = lambda: now + timedelta(days=days_later)
    with plat.unit_of_work(OP) as ctx:
        return audit.purge_expired(ctx, dry_run=True)["purged"]


def probe_audit_retention_days(reconfigure, samples, tmp_path):
    label(reconfigure(), samples["photo.gif"], visible=False)
    assert _purgeable(reconfigure(), 190) > 0
    assert _purgeable(reconfigure(audit_retention_days=400), 190) == 0


def probe_audit_retention_by_kind(reconfigure, samples, tmp_path):
    label(reconfigure(), samples["photo.gif"], visible=False)
    everything = _purgeable(reconfigure(), 190)
    kept_labels = _purgeable(reconfigure(audit_retention_by_kind={"content.labeled": 400}), 190)
    assert 0 < kept_labels < everything


def probe_audit_origin(reconfigure, samples, tmp_path):
    from synthgov.audit.checkpoints import make_checkpoint

    plat = reconfigure(audit_origin="log.example.org/ours", audit_checkpoint_file=tmp_path / "o.jsonl")
    label(plat, samples["photo.gif"], visible=False)
    assert make_checkpoint(plat).note.startswith("log.example.org/ours\n")


def probe_audit_checkpoint_file(reconfigure, samples, tmp_path):
    plat = reconfigure(audit_checkpoint_file=tmp_path / "elsewhere.jsonl")
    label(plat, samples["photo.gif"], visible=False)
    plat.close()  # a process that appended makes a checkpoint when it closes
    assert '"note"' in (tmp_path / "elsewhere.jsonl").read_text()


def probe_audit_checkpoint_every(reconfigure, samples, tmp_path):
    from synthgov.audit.checkpoints import CheckpointFile

    every = reconfigure(audit_checkpoint_every=1, audit_checkpoint_file=tmp_path / "e1.jsonl")
    label(every, samples["photo.gif"], visible=False)
    assert CheckpointFile(tmp_path / "e1.jsonl").read().latest is not None  # made after the commit, not at close
    rarely = reconfigure(audit_checkpoint_every=1000, audit_checkpoint_file=tmp_path / "e1000.jsonl")
    label(rarely, samples["photo.gif"], visible=False)
    assert CheckpointFile(tmp_path / "e1000.jsonl").read().latest is None


def probe_audit_checkpoint_seconds(reconfigure, samples, tmp_path):
    import time

    from synthgov.audit.checkpoints import CheckpointFile

    plat = reconfigure(audit_checkpoint_seconds=0.1, audit_checkpoint_file=tmp_path / "t.jsonl")
    with plat.run_periodic():  # as the server runs it
        label(plat, samples["photo.gif"], visible=False)
        deadline = time.monotonic() + 20
        while CheckpointFile(tmp_path / "t.jsonl").read().latest is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert CheckpointFile(tmp_path / "t.jsonl").read().latest is not None


def _silent_server():
    """A socket that accepts connections and never answers."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def probe_audit_witnesses(reconfigure, samples, tmp_path):
    from synthgov.audit.checkpoints import make_checkpoint
    from synthgov.audit.notes import COSIGNATURE_V1, Verifier
    from synthgov.config import WitnessSetting

    key = Verifier("nobody.example/w", COSIGNATURE_V1, bytes(32)).vkey
    plat = reconfigure(audit_witnesses=[WitnessSetting(url="http://127.0.0.1:9/v1/witness", key=key)],
                       audit_checkpoint_file=tmp_path / "w.jsonl")
    label(plat, samples["photo.gif"], visible=False)
    outcome = make_checkpoint(plat)
    assert list(outcome.witnesses) == ["nobody.example/w"] and outcome.unreachable


def probe_audit_witness_timeout(reconfigure, samples, tmp_path):
    from synthgov.audit.checkpoints import make_checkpoint
    from synthgov.audit.notes import COSIGNATURE_V1, Verifier
    from synthgov.config import WitnessSetting

    sock, url = _silent_server()
    key = Verifier("silent.example/w", COSIGNATURE_V1, bytes(32)).vkey
    plat = reconfigure(audit_witnesses=[WitnessSetting(url=url, key=key)], audit_witness_timeout=0.2,
                       audit_checkpoint_file=tmp_path / "to.jsonl")
    label(plat, samples["photo.gif"], visible=False)
    try:
        outcome = make_checkpoint(plat)
    finally:
        sock.close()
    assert "timed out" in outcome.unreachable[0]


def probe_witness_name(reconfigure, samples, tmp_path):
    from synthgov.audit.witness import witness_verifier

    with reconfigure(witness_name="w.example.org/one").unit_of_work(OP) as ctx:
        assert witness_verifier(ctx).vkey.startswith("w.example.org/one+")


def probe_witness_key_file(reconfigure, samples, tmp_path):
    from synthgov.audit.witness import witness_verifier

    with reconfigure(witness_key_file=tmp_path / "wk.pem").unit_of_work(OP) as ctx:
        witness_verifier(ctx)
    assert (tmp_path / "wk.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def probe_witness_logs(reconfigure, samples, tmp_path):
    from synthgov.audit.checkpoints import log_verifiers, make_checkpoint
    from synthgov.audit.policy import AuditPolicy
    from synthgov.audit.witness import add_checkpoint
    from synthgov.config import WitnessedLog
    from synthgov.errors import NotFound

    log = reconfigure(audit_checkpoint_file=tmp_path / "wl.jsonl")
    label(log, samples["photo.gif"], visible=False)
    body = f"old 0\n\n{make_checkpoint(log).note}".encode()
    origin = log.policy(AuditPolicy).origin
    with pytest.raises(NotFound), reconfigure().unit_of_work(OP) as ctx:
        add_checkpoint(ctx, body=body)
    witnessing = reconfigure(witness_logs=[WitnessedLog(origin=origin, keys=[v.vkey for v in log_verifiers(log)])])
    with witnessing.unit_of_work(OP) as ctx:
        assert add_checkpoint(ctx, body=body).startswith("\u2014 ")


def probe_output_mode(reconfigure, samples, tmp_path):
    from synthgov.labeling.service import label_file

    (tmp_path / "in.gif").write_bytes(samples["photo.gif"])
    with reconfigure(output_mode="600").unit_of_work(OP) as ctx:
        label_file(ctx, source=tmp_path / "in.gif", destination=tmp_path / "out.gif", visible=False)
    assert (tmp_path / "out.gif").stat().st_mode & 0o777 == 0o600


def probe_api_rate_limit(reconfigure, samples, tmp_path):
    from fastapi.testclient import TestClient

    from synthgov.api import create_app
    from synthgov.identity.service import create_api_key

    for limit, expected in ((2, 429), (0, 404)):
        plat = reconfigure(api_rate_limit=limit)
        with plat.unit_of_work(OP) as ctx:
            token = create_api_key(ctx, name="rate").token
        client = TestClient(create_app(plat), headers={"Authorization": f"Bearer {token}"})
        assert [client.get("/v1/records/none").status_code for _ in range(3)][-1] == expected


def probe_watermark(reconfigure, samples, tmp_path):
    assert label(reconfigure(watermark=True), samples["photo.png"], visible=False).record.watermark_payload
    assert label(reconfigure(watermark=False), samples["photo.png"], visible=False).record.watermark_payload is None


def probe_watermark_key_file(reconfigure, samples, tmp_path):
    master = secrets.token_bytes(32)
    (tmp_path / "wm.key").write_bytes(master)
    outcome = label(reconfigure(watermark_key_file=tmp_path / "wm.key"), samples["photo.png"], visible=False)
    from synthgov.modalities.image.watermark import detect

    image = Image.open(io.BytesIO(outcome.data))
    found = detect(image, scheme_key(master, "image/keyed-ss-v2"))
    assert found is not None and f"{found.payload:016x}" == outcome.record.watermark_payload


def probe_fingerprint(reconfigure, samples, tmp_path):
    assert label(reconfigure(fingerprint=True), samples["photo.gif"], visible=False).record.fingerprint
    assert label(reconfigure(fingerprint=False), samples["photo.gif"], visible=False).record.fingerprint is None


def probe_fingerprint_max_distance(reconfigure, samples, tmp_path):
    outcome = label(reconfigure(), samples["photo.png"], visible=False, watermark=False)
    copy = reencoded(outcome.data)
    assert inspect(reconfigure(), copy).fingerprint_matches
    assert inspect(reconfigure(fingerprint_max_distance=0), copy).fingerprint_matches == []


def probe_max_input_bytes(reconfigure, samples, tmp_path):
    with pytest.raises(TooLarge):
        label(reconfigure(max_input_bytes=1000), samples["photo.png"])


def probe_max_image_pixels(reconfigure, samples, tmp_path):
    with pytest.raises(HostileInput, match="over the 1000-pixel limit"):
        label(reconfigure(max_image_pixels=1000), samples["photo.png"])


def probe_modalities(reconfigure, samples, tmp_path):
    with pytest.raises(HostileInput, match="over the 2000-pixel limit"):
        label(reconfigure(modalities={"image": {"max_pixels": 2000}}), samples["photo.png"])
    # the one strength setting reaches the embedder: a weaker mark costs less and records its setting
    weak = label(reconfigure(modalities={"image": {"watermark": {"strength": 0.5}}}), samples["photo.png"],
                 visible=False)
    strong = label(reconfigure(modalities={"image": {"watermark": {"strength": 2.0}}}), samples["photo.png"],
                   visible=False)
    assert weak.record.watermark_strength["strength"] == 0.5 and strong.record.watermark_strength["strength"] == 2.0
    assert weak.record.watermark_strength["psnr"] > strong.record.watermark_strength["psnr"] + 3


def _served(monkeypatch, tmp_path, settings, **env):
    import uvicorn

    from synthgov.cli.main import main

    seen = {}
    monkeypatch.setattr(uvicorn, "run",
                        lambda app, host, port, log_level, **kw: seen.update(host=host, port=port, app=app, **kw))
    monkeypatch.setenv("SYNTHGOV_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SYNTHGOV_DATABASE_URL", settings.resolved_database_url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as done:
        main(["serve"])
    assert done.value.code in (0, None)
    return seen


def probe_host(reconfigure, samples, tmp_path, monkeypatch=None, settings=None):
    assert _served(monkeypatch, tmp_path, settings, SYNTHGOV_HOST="127.0.0.2")["host"] == "127.0.0.2"


def probe_port(reconfigure, samples, tmp_path, monkeypatch=None, settings=None):
    assert _served(monkeypatch, tmp_path, settings, SYNTHGOV_PORT="8123")["port"] == 8123


def probe_api_workers(reconfigure, samples, tmp_path, monkeypatch=None, settings=None):
    assert "workers" not in _served(monkeypatch, tmp_path, settings)  # one process: the app itself
    seen = _served(monkeypatch, tmp_path, settings, SYNTHGOV_API_WORKERS="3")
    assert seen["workers"] == 3 and seen["factory"] and seen["app"] == "synthgov.api.app:served_app"


def _slot_answer(plat, hold_for: float) -> int:
    """The status of an upload sent while another holds a work slot for ``hold_for`` seconds."""
    from synthgov.api.background import serve_in_background
    from synthgov.identity.service import create_api_key
    from tests.api.test_door import hold_a_slot, raw, upload_head

    with plat.unit_of_work(OP) as ctx:
        token = create_api_key(ctx, name="slots").token
    with serve_in_background(plat) as url:
        held = hold_a_slot(url, token)
        threading.Timer(hold_for, held.close).start()
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nnot an image\r\n--b--\r\n'
        return raw(url, upload_head(token, len(body) + 70_000), body + b" " * 70_000)[0]


def probe_api_concurrent_work(reconfigure, samples, tmp_path):
    assert _slot_answer(reconfigure(api_concurrent_work=1, api_queue_seconds=0.5), 3.0) == 503
    assert _slot_answer(reconfigure(api_concurrent_work=2, api_queue_seconds=0.5), 3.0) != 503


def probe_api_queue_seconds(reconfigure, samples, tmp_path):
    assert _slot_answer(reconfigure(api_concurrent_work=1, api_queue_seconds=5), 0.5) != 503  # waited its turn


PROBES = {name[len("probe_"):]: fn for name, fn in globals().items() if name.startswith("probe_")}


def test_every_setting_has_a_probe():
    assert sorted(PROBES) == sorted(Settings.model_fields)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_setting_has_an_effect(name, reconfigure, samples, tmp_path, monkeypatch, settings):
    probe = PROBES[name]
    if name in ("host", "port", "api_workers"):
        probe(reconfigure, samples, tmp_path, monkeypatch=monkeypatch, settings=settings)
    else:
        probe(reconfigure, samples, tmp_path)
