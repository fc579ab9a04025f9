"""Soak: mixed labeling and inspection traffic through the HTTP API of a real `synthgov serve`
process, at 20 concurrent clients, with hostile files mixed in, for SYNTHGOV_BENCH_SOAK_SECONDS
(default 1200). Reports requests/s, p50/p99 per kind, errors, the server's memory over time, and
records against responses (none lost, none duplicated). The peer is the server's own first minute:
memory must stay flat and latency must not drift.
"""

from __future__ import annotations

import http.client
import io
import os
import random
import secrets
import sqlite3
import statistics
import threading
import time
import zlib
from pathlib import Path

from bench import server

SECONDS = float(os.environ.get("SYNTHGOV_BENCH_SOAK_SECONDS", "1200"))
CLIENTS = int(os.environ.get("SYNTHGOV_BENCH_SOAK_CLIENTS", "20"))
WORKERS = int(os.environ.get("SYNTHGOV_BENCH_SOAK_WORKERS", str(min(4, os.cpu_count() or 1))))
ROOT = Path(__file__).parents[1]


def _inputs() -> tuple[list[bytes], list[bytes]]:
    from PIL import Image

    good = []
    for path in sorted((ROOT / "bench" / "photos").glob("*"))[:6]:
        if path.suffix.lower() not in (".png", ".jpg"):
            continue
        with Image.open(path) as im:
            small = im.convert("RGB")
            small.thumbnail((512, 512))
        for fmt in ("PNG", "JPEG"):
            buf = io.BytesIO()
            small.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
            good.append(buf.getvalue())
    png = good[0]
    big_text = zlib.compress(b"x" * (1 << 20), 9)
    import struct

    def chunk(ctype: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))

    frames = []
    for i in range(30):
        im = Image.new("P", (2000, 2000), 0)
        im.putpixel((i, i), 1)
        frames.append(im)
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    hostile = [
        png[: len(png) // 2],  # truncated
        os.urandom(5000),  # not an image
        png[:16] + struct.pack(">II", 100_000, 100_000) + png[24:],  # a bomb header (bad CRC too)
        png[:33] + b"".join(chunk(b"iTXt", b"C%d\x00\x01\x00\x00\x00" % i + big_text) for i in range(60)) + png[33:],
        gif.getvalue(),  # 120 megapixels of frames in a few KB
        b"",
    ]
    return good, hostile


def run() -> dict:
    served = server.start(WORKERS)
    port, token = served.port, served.token
    good, hostile = _inputs()
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"label": [], "inspect": [], "hostile": []}
    statuses: dict[str, dict[int, int]] = {k: {} for k in latencies}
    labeled: list[str] = []
    memory: list[tuple[float, int]] = []
    stop = time.monotonic() + SECONDS
    started = time.monotonic()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < stop:
            roll = rng.random()
            kind = "hostile" if roll < 0.1 else ("label" if roll < 0.55 else "inspect")
            data = rng.choice(hostile if kind == "hostile" else good)
            path = "/v1/inspections" if kind == "inspect" or (kind == "hostile" and rng.random() < 0.5) \
                else "/v1/labels"
            body, ctype = server.multipart(data, {"visible": "true"} if path == "/v1/labels" else {})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": ctype}
            if path == "/v1/labels":
                headers["Idempotency-Key"] = secrets.token_hex(8)
            t = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                record = response.getheader("X-Synthgov-Record-Id")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status, record = 0, None
            elapsed = time.perf_counter() - t
            with lock:
                latencies[kind].append(elapsed)
                statuses[kind][status] = statuses[kind].get(status, 0) + 1
                if record and status == 200:
                    labeled.append(record)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        memory.append((round(time.monotonic() - started, 1), served.rss_kb()))
        time.sleep(min(5.0, max(0.5, SECONDS / 100)))
    served.stop()
    db = sqlite3.connect(served.folder / "synthgov.db")
    stored = [row[0] for row in db.execute("SELECT id FROM generation_records")]
    db.close()
    total = sum(len(v) for v in latencies.values())
    duration = time.monotonic() - started
    mem = [kb for _, kb in memory if kb]
    first_minute = [kb for at, kb in memory if at <= 60 and kb] or mem[:1]
    out = {
        "seconds": round(duration, 1), "clients": CLIENTS, "workers": WORKERS, "requests": total,
        "requests_per_s": round(total / duration, 1),
        "latency_ms": {k: {"p50": round(statistics.median(v) * 1000, 1),
                           "p99": round(sorted(v)[int(len(v) * 0.99)] * 1000, 1), "n": len(v)}
                       for k, v in latencies.items() if v},
        "statuses": {k: {str(s): n for s, n in sorted(v.items())} for k, v in statuses.items()},
        "server_errors": sum(n for v in statuses.values() for s, n in v.items() if s >= 500 or s == 0),
        "rss_mb": {"first_minute_max": round(max(first_minute) / 1024, 1), "max": round(max(mem) / 1024, 1),
                   "last": round(mem[-1] / 1024, 1)},
        "memory_series": [(at, round(kb / 1024, 1)) for at, kb in memory[:: max(1, len(memory) // 40)]],
        "labeled_responses": len(labeled), "records": len(stored),
        "lost": len(set(labeled) - set(stored)), "unanswered_records": len(set(stored) - set(labeled)),
        "duplicated": len(labeled) - len(set(labeled)),
    }
    return out
