"""A few seconds of the hostile-uploads benchmark (bench/hostile.py, two minutes in make bench): several
clients at once send the costliest accepted files and bombs to a real two-process server; no server
error, every bomb refused, nothing lost, and the server still answers."""

from bench import hostile


def test_hostile_uploads_at_once(monkeypatch):
    monkeypatch.setattr(hostile, "SECONDS", 6.0)
    monkeypatch.setattr(hostile, "CLIENTS", 4)
    monkeypatch.setattr(hostile, "WORKERS", 2)
    result = hostile.run(scale=0.25)
    assert result["requests"] >= 4 and result["alive_after"]
    assert result["server_errors"] == 0, result["statuses"]
    assert result["records"] == result["labeled_responses"] and result["lost"] == result["unanswered_records"] == 0
    for request, statuses in result["statuses"].items():
        if "bomb" in request and request.startswith("labels"):
            assert set(statuses) == {"422"}, (request, statuses)
