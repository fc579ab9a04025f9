"""Limits at the door, over a real socket: the size limit and authentication answer before the
body is read, a chunked body is cut off at the limit, and each key has a request rate."""

import socket
import time

import pytest

from synthgov.api.background import serve_in_background
from synthgov.api.door import SMALL_BODY
from synthgov.identity.service import create_api_key


def raw(url: str, head: str, body: bytes = b"", wait: float = 10.0) -> tuple[int, bytes, float]:
    """Send ``head`` (and ``body``) on a fresh connection; (status, response, seconds to answer)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        start = time.perf_counter()
        sock.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        elapsed = time.perf_counter() - start
    return int(data.split(b" ", 2)[1]), data, elapsed


@pytest.fixture
def served(reconfigure, operator):
    def make(**settings):
        plat = reconfigure(**settings)
        with plat.unit_of_work(operator) as ctx:
            token = create_api_key(ctx, name="door").token
        return plat, token

    return make


def test_an_oversized_body_is_refused_before_it_is_sent(served):
    plat, token = served(max_input_bytes=1_000_000)
    with serve_in_background(plat) as url:
        head = (f"POST /v1/labels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {2 * 1024 ** 3}\r\n")
        status, response, _ = raw(url, head)  # no body at all: the answer comes from the headers alone
    assert status == 413 and b"application/problem+json" in response


def test_no_key_is_refused_before_the_body(served):
    plat, _ = served()
    with serve_in_background(plat) as url:
        head = ("POST /v1/labels HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {100 * 1024 ** 2}\r\n")
        status, response, elapsed = raw(url, head)  # 100 MB announced, none sent
    assert status == 401 and elapsed < 5


def test_a_chunked_body_is_cut_off_at_the_limit(served):
    plat, token = served(max_input_bytes=100_000)
    part = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + b"x" * (40 * 65536) + b"\r\n--b--\r\n")
    pieces = [part[i:i + 65536] for i in range(0, len(part), 65536)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    with serve_in_background(plat) as url:
        head = (f"POST /v1/labels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n")
        status, _, _ = raw(url, head, body)
    assert status == 413


def test_each_key_has_a_rate(served):
    plat, token = served(api_rate_limit=3)
    with serve_in_background(plat) as url:
        head = f"GET /v1/records/none HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        answers = [raw(url, head) for _ in range(4)]
    assert [a[0] for a in answers[:3]] == [404, 404, 404]
    assert answers[3][0] == 429 and b"retry-after:" in answers[3][1].lower()


def test_idempotency_key_makes_retries_safe(platform, operator, samples):
    import threading

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from synthgov.api import create_app
    from synthgov.records.models import GenerationRecord

    with platform.unit_of_work(operator) as ctx:
        token = create_api_key(ctx, name="retry").token
    client = TestClient(create_app(platform), headers={"Authorization": f"Bearer {token}"})

    def post(key, data=samples["photo.png"]):
        return client.post("/v1/labels", files={"file": ("a.png", data, "image/png")}, data={"visible": "false"},
                           headers={"Idempotency-Key": key})

    def records():
        with platform.sessionmaker() as s:
            return s.scalar(select(func.count()).select_from(GenerationRecord))

    first = post("order-1")
    again = post("order-1")  # the response was lost; the client retries
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Synthgov-Record-Id"] == first.headers["X-Synthgov-Record-Id"]
    assert again.content == first.content and records() == 1
    other = post("order-1", samples["photo.jpg"])
    assert other.status_code == 422 and "used for another request" in other.json()["detail"]
    assert post("order-2").headers["X-Synthgov-Record-Id"] != first.headers["X-Synthgov-Record-Id"]
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(post("order-3"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.headers["X-Synthgov-Record-Id"] for a in answers}) == 1  # twins at once: one record
    assert records() == 3


def hold_a_slot(url: str, token: str) -> socket.socket:
    """An upload whose body is still streaming: it holds a work slot until the socket closes."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall((f"POST /v1/inspections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                  "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "f\r\n--b\r\nContent-Di\r\n").encode())
    time.sleep(0.3)  # the door has taken the slot and waits for the rest of the body
    return sock


def upload_head(token: str, size: int = 200_000) -> str:
    return (f"POST /v1/inspections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {size}\r\n")


def test_uploads_beyond_the_work_slots_wait_then_get_503(served):
    plat, token = served(api_concurrent_work=1, api_queue_seconds=0.5)
    with serve_in_background(plat) as url:
        held = hold_a_slot(url, token)
        try:
            status, response, elapsed = raw(url, upload_head(token))  # nothing of its body is sent
            small, _, _ = raw(url, f"GET /v1/records/none HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n")
        finally:
            held.close()
        assert status == 503 and b"retry-after:" in response.lower() and b"problem+json" in response
        assert 0.4 < elapsed < 5
        assert small == 404  # requests without an upload never wait for a slot
        time.sleep(0.3)
        body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nnot an image\r\n'
                b"--b--\r\n")
        status, _, _ = raw(url, upload_head(token, len(body) + SMALL_BODY),
                           body + b" " * SMALL_BODY)  # the slot is free again once the held upload is gone
        assert status != 503


def test_the_rate_is_shared_by_every_server_process(tmp_path):
    from synthgov.api.door import RateLimiter

    workers = [RateLimiter(3, tmp_path / "rate") for _ in range(3)]  # one per process, the same folder
    assert [w.take("key-1") for w in workers] == [0.0, 0.0, 0.0]
    assert workers[0].take("key-1") > 0 and workers[2].take("key-1") > 0
    assert workers[1].take("key-2") == 0.0  # each key has its own bucket
    for bucket in (tmp_path / "rate").iterdir():
        assert bucket.stat().st_mode & 0o777 == 0o600
        bucket.write_bytes(b"torn")
    assert workers[0].take("key-1") == 0.0  # a damaged bucket starts full again
