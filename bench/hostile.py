"""Hostile uploads at once: SYNTHGOV_BENCH_HOSTILE_CLIENTS (default 8) clients send, again and again
for SYNTHGOV_BENCH_HOSTILE_SECONDS (default 120), the costliest files the default limits still let in
(and bombs they refuse) to a real `synthgov serve` with its default settings, labeling and inspecting.
Reports the server's peak memory (all its processes), every answer's status, records against
labeled responses, and whether the server still answers afterwards: the defaults must let a 2-core,
24 GB server survive this (issue 11).
"""

from __future__ import annotations

import http.client
import io
import os
import random
import struct
import threading
import time
import zlib

from bench import server

SECONDS = float(os.environ.get("SYNTHGOV_BENCH_HOSTILE_SECONDS", "120"))
CLIENTS = int(os.environ.get("SYNTHGOV_BENCH_HOSTILE_CLIENTS", "8"))
WORKERS = int(os.environ.get("SYNTHGOV_BENCH_HOSTILE_WORKERS", str(min(4, os.cpu_count() or 1))))


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def inputs(scale: float = 1.0) -> dict[str, bytes]:
    """The worst files within the default limits (32 megapixels decoded, 1000 frames, 16 MiB of
    metadata), and bombs beyond them; ``scale`` < 1 shrinks the accepted ones (for the smoke test)."""
    import numpy as np
    from PIL import Image

    out = {}
    side = int(6500 * scale), int(4900 * scale)  # 31.9 megapixels at scale 1
    yy, xx = np.mgrid[0 : side[1], 0 : side[0]]
    rgb = np.stack([(xx * 255 // side[0]), (yy * 255 // side[1]), ((xx + yy) % 256)], axis=-1).astype(np.uint8)
    big = Image.fromarray(rgb, "RGB")
    buf = io.BytesIO()
    big.save(buf, "PNG", compress_level=9)
    out["32 MP PNG"] = buf.getvalue()
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=85)
    out["32 MP JPEG"] = buf.getvalue()
    frames = [Image.new("P", (int(178 * scale), int(178 * scale)), i % 7) for i in range(int(1000 * scale))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    out["1000-frame GIF"] = buf.getvalue()
    pages = [big.resize((side[0] // 2, side[1] // 2)) for _ in range(3)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    out["3-page TIFF (24 MP)"] = buf.getvalue()
    small = io.BytesIO()
    big.resize((512, 384)).save(small, "PNG")
    png = small.getvalue()
    text = zlib.compress(b"x" * (1 << 20), 9)
    out["15 MiB of text chunks"] = png[:33] + b"".join(
        _chunk(b"zTXt", b"C%d\x00\x00" % i + text) for i in range(int(15 * scale) or 1)) + png[33:]
    out["bomb: 100000x100000 header"] = png[:16] + struct.pack(">II", 100_000, 100_000) + png[24:]
    out["bomb: 60 MiB of text chunks"] = png[:33] + b"".join(
        _chunk(b"zTXt", b"C%d\x00\x00" % i + text) for i in range(60)) + png[33:]
    many = [Image.new("P", (2000, 2000), i % 3) for i in range(30)]
    buf = io.BytesIO()
    many[0].save(buf, "GIF", save_all=True, append_images=many[1:])
    out["bomb: 120 MP of GIF frames"] = buf.getvalue()
    return out


def run(scale: float = 1.0) -> dict:
    files = inputs(scale)
    served = server.start(WORKERS)
    lock = threading.Lock()
    statuses: dict[str, dict[str, int]] = {}
    labeled: list[str] = []
    peak = [0]
    stop = time.monotonic() + SECONDS
    names = sorted(files)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=600)
        while time.monotonic() < stop:
            name = names[(seed + rng.randrange(len(names))) % len(names)]
            path = rng.choice(["/v1/labels", "/v1/inspections"])
            body, ctype = server.multipart(files[name], {"visible": "true"} if path == "/v1/labels" else {})
            try:
                conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {served.token}",
                                                               "Content-Type": ctype})
                response = conn.getresponse()
                response.read()
                status, record = str(response.status), response.getheader("X-Synthgov-Record-Id")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=600)
                status, record = "no answer", None
            with lock:
                row = statuses.setdefault(f"{path.rsplit('/', 1)[1]}: {name}", {})
                row[status] = row.get(status, 0) + 1
                if record and status == "200":
                    labeled.append(record)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak[0] = max(peak[0], served.rss_kb())
        time.sleep(0.25)
    duration = time.monotonic() - started
    try:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        conn.request("GET", "/healthz")
        alive = conn.getresponse().status == 200
    except OSError:
        alive = False
    served.stop()
    import sqlite3

    db = sqlite3.connect(served.folder / "synthgov.db")
    stored = {row[0] for row in db.execute("SELECT id FROM generation_records")}
    db.close()
    answers = [s for row in statuses.values() for s, n in row.items() for _ in range(n)]
    return {
        "seconds": round(duration, 1), "clients": CLIENTS, "workers": WORKERS,
        "files": {name: len(data) for name, data in files.items()},
        "statuses": dict(sorted(statuses.items())), "requests": len(answers),
        "server_errors": sum(1 for s in answers if s == "no answer" or (s.isdigit() and int(s) >= 500 and s != "503")),
        "busy": answers.count("503"),
        "peak_rss_mb": round(peak[0] / 1024, 1), "alive_after": alive,
        "labeled_responses": len(labeled), "records": len(stored), "lost": len(set(labeled) - stored),
        "unanswered_records": len(stored - set(labeled)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
