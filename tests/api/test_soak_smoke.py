"""A few seconds of the soak (bench/soak.py, 20 minutes in make bench): a real server, concurrent
clients, hostile files mixed in; nothing lost, nothing duplicated, no server error."""

from bench import soak


def test_a_short_soak(monkeypatch):
    monkeypatch.setattr(soak, "SECONDS", 8.0)
    monkeypatch.setattr(soak, "CLIENTS", 4)
    monkeypatch.setattr(soak, "WORKERS", 2)  # several server processes share one database and log
    result = soak.run()
    assert result["requests"] > 4
    assert result["server_errors"] == 0, result["statuses"]
    assert result["lost"] == result["duplicated"] == result["unanswered_records"] == 0
    assert result["records"] == result["labeled_responses"] > 0
    hostile = result["statuses"].get("hostile", {})
    assert all(400 <= int(status) < 500 for status in hostile), hostile
