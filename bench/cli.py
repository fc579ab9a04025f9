"""How quickly the CLI answers: ``synthgov --help`` and a command's help, against exiftool starting
and writing one file (the tool an operator would compare a metadata CLI with). Whole processes,
best of ROUNDS, side by side in one run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 15
ROOT = Path(__file__).parents[1]


def _best(cmd: list[str], rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def run() -> dict:
    synthgov = str(Path(sys.executable).with_name("synthgov"))
    out: dict = {"ms": {}, "rounds": ROUNDS}
    for name, args in (("synthgov --help", ["--help"]), ("synthgov inspect --help", ["inspect", "--help"]),
                       ("synthgov label image --help", ["label", "image", "--help"]),
                       ("synthgov audit verify --help", ["audit", "verify", "--help"])):
        out["ms"][name] = _best([synthgov, *args])
    out["ms"]["python -c pass"] = _best([sys.executable, "-c", "pass"])
    exiftool = shutil.which("exiftool")
    if exiftool:
        with tempfile.TemporaryDirectory() as tmp:
            src = ROOT / "tests" / "fixtures" / "photos" / "rocket.jpg"
            dst = Path(tmp) / "out.jpg"

            def write() -> None:
                dst.unlink(missing_ok=True)
                subprocess.run([exiftool, "-q", "-XMP-dc:Description=AI", "-o", str(dst), str(src)],
                               capture_output=True, check=True)

            best = float("inf")
            for _ in range(ROUNDS):
                t = time.perf_counter()
                write()
                best = min(best, time.perf_counter() - t)
            out["ms"]["exiftool write of one file"] = round(best * 1000, 1)
        base = out["ms"]["exiftool write of one file"]
        out["ratios"] = {k: round(v / base, 2) for k, v in out["ms"].items() if k.startswith("synthgov")}
    return out
