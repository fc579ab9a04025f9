"""A real `synthgov serve` for the benchmarks that drive the HTTP API (soak, hostile uploads): a
fresh demo data folder, an API key, a free port, and the server's memory (every process of it)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    token: str
    folder: Path

    def rss_kb(self) -> int:
        """Resident memory of the server and its worker processes together."""
        return tree_rss_kb(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def start(workers: int = 1, **settings: str) -> Served:
    folder = Path(tempfile.mkdtemp(prefix="synthgov-bench-serve-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGOV_")} | {
        "SYNTHGOV_DATA_DIR": str(folder), "SYNTHGOV_API_RATE_LIMIT": "0"} | settings
    synthgov = [sys.executable, "-m", "synthgov"]
    subprocess.run(synthgov + ["init", "--demo"], env=env, check=True, capture_output=True)
    token = json.loads(subprocess.run(synthgov + ["apikey", "create", "--json"], env=env, check=True,
                                      capture_output=True, text=True).stdout)["token"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(synthgov + ["serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(1.0 if workers > 1 else 0.0)  # the other workers come up after the first answers
    return Served(process, port, token, folder)


def tree_rss_kb(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def multipart(data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.bin"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
