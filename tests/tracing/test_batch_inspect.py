"""A folder is inspected in batches: files read first, their records looked up together, then each
judged. Every answer must be the one inspecting each file on its own gives, tampering included,
and the lookups must not grow with the number of files (on SQLite and PostgreSQL)."""

from pathlib import Path

from sqlalchemy import delete, event, update

from synthgov.audit.checkpoints import make_checkpoint
from synthgov.audit.models import AuditNode
from synthgov.permissions import Actor
from synthgov.records.models import GenerationRecord
from synthgov.tracing import service
from tests.audit.tampering import label, tamper


def _alone(platform, operator, path: Path) -> dict:
    with platform.unit_of_work(operator) as ctx:
        return service.inspect_or_error(ctx, data=path.read_bytes(), name=str(path)).to_dict()


def _batch(platform, paths: list[Path]) -> list[dict]:
    items = [{"path": str(p), "actor": Actor.operator().id, "deep": False, "search": True} for p in paths]
    return [r.to_dict() for r in service.inspect_files(platform, items)]


def _folder(tmp_path: Path, outputs: list[bytes], extra: dict[str, bytes]) -> list[Path]:
    tmp_path.mkdir(exist_ok=True)
    paths = []
    for n, data in enumerate(outputs):
        paths.append(tmp_path / f"out{n}.gif")
        paths[-1].write_bytes(data)
    for name, data in extra.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    return paths


def test_a_batch_answers_what_each_file_alone_answers(platform, operator, samples, tmp_path):
    outs = label(platform, operator, samples, 5)
    make_checkpoint(platform)  # entries 1-5 get inclusion proofs; the sixth labeling is not in a checkpoint yet
    outs += label(platform, operator, samples, 1)
    tamper(platform, update(GenerationRecord).where(GenerationRecord.id == outs[2].record.id).values(user_ref="bob"))
    paths = _folder(tmp_path, [o.data for o in outs], {
        "input.gif": samples["photo.gif"],  # the unmodified input of every one of them
        "plain.png": samples["photo.png"],
        "broken.jpg": samples["photo.jpg"][:200],
        "not-an-image.jpg": b"hello",
    })
    paths.append(tmp_path / "missing.png")  # gone between listing and reading
    together = _batch(platform, paths)
    assert together[:-1] == [_alone(platform, operator, p) for p in paths[:-1]]
    says = [r["labels"][0]["record"]["log"]["says"] for r in together[:6]]
    assert says[2].startswith("DOES NOT MATCH the log: the row was changed after log entry")
    assert [s.startswith("matches log entry") for s in says] == [True, True, False, True, True, True]
    assert "included in the signed checkpoint of size 6" in says[0] and "not yet in a signed checkpoint" in says[5]
    assert {m["relation"] for m in together[6]["content_matches"]} == {"input"}
    assert [r["status"] for r in together[6:]] == ["unlabeled", "unlabeled", "unlabeled", "error", "error"]
    assert any(p.startswith("container damaged") for p in together[8]["problems"])  # the truncated JPEG


def test_a_missing_stored_hash_fails_only_the_rows_it_proves(platform, operator, samples, tmp_path):
    outs = label(platform, operator, samples, 4)
    make_checkpoint(platform)
    tamper(platform, delete(AuditNode))  # every stored subtree hash gone: no inclusion proof can be computed
    paths = _folder(tmp_path, [o.data for o in outs], {})
    together = _batch(platform, paths)
    assert together == [_alone(platform, operator, p) for p in paths]
    assert all("stored subtree hashes are missing" in r["labels"][0]["record"]["log"]["says"] for r in together)


def test_lookups_do_not_grow_with_the_files(platform, operator, samples, tmp_path):
    files = 4
    outs = label(platform, operator, samples, 3 * files)
    make_checkpoint(platform)
    counted: list[int] = []

    def statements(paths: list[Path]) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement text
        event.listen(platform.engine, "before_cursor_execute", listener)
        try:
            results = _batch(platform, paths)
        finally:
            event.remove(platform.engine, "before_cursor_execute", listener)
        assert all(r["labels"][0]["record"]["log"]["matches"] for r in results)
        return len(seen)

    counted.append(statements(_folder(tmp_path / "few", [o.data for o in outs[:files]], {})))
    counted.append(statements(_folder(tmp_path / "more", [o.data for o in outs], {})))
    assert counted[0] == counted[1], counted  # per batch, not per file


def test_a_produce_id_holding_a_nul_names_no_record(platform, operator, samples, tmp_path):
    """PostgreSQL refuses a NUL in a query parameter: such a ProduceID (a hostile label) names no
    record, alone or in a batch, and the rest of the batch is judged."""
    import io
    import json

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", json.dumps({"Label": "1", "ContentProducer": "x", "ProduceID": "a\x00b"}))
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 130, 140)).save(buf, "PNG", pnginfo=info)
    outs = label(platform, operator, samples, 1)
    paths = _folder(tmp_path, [outs[0].data], {"nul.png": buf.getvalue()})
    together = _batch(platform, paths)
    assert together == [_alone(platform, operator, p) for p in paths]
    assert together[1]["labels"][0]["fields"]["ProduceID"] == "a\x00b" and together[1]["labels"][0]["record"] is None
    assert together[0]["labels"][0]["record"]["log"]["matches"]



def test_the_encoded_batch_is_the_same_answers_as_json_text(platform, operator, samples, tmp_path):
    """``--json`` and ``--jsonl`` take each result as JSON text made in the worker: the same answer."""
    import json

    outs = label(platform, operator, samples, 2)
    paths = _folder(tmp_path, [o.data for o in outs], {"plain.png": samples["photo.png"], "bad.jpg": b"hello"})
    items = [{"path": str(p), "actor": Actor.operator().id, "deep": False, "search": True} for p in paths]
    encoded = list(service.inspect_files_encoded(platform, items))
    assert [json.loads(e.text) for e in encoded] == [e.to_dict() for e in encoded] == _batch(platform, paths)
    assert [e.status.value for e in encoded] == ["labeled", "labeled", "unlabeled", "error"]
    assert encoded[-1].error and encoded[-1].name == str(paths[-1])
