"""Whole commands on a folder of SYNTHGOV_BENCH_FOLDER_FILES (default 2000) photographs, synthgov
against exiftool doing the same reading and writing in one batch process, side by side in one run:

* metadata-only labeling: ``synthgov label image DIR -o OUT --no-visible --no-watermark --jobs N``
  (per file: container checks, SM2 signature, XMP written and read back, PDQ fingerprint, output file,
  generation record and audit entry committed) against ``exiftool -XMP-TC260:AIGC=… -o OUT/ DIR``;
* inspecting the labeled folder: ``synthgov inspect OUT --jobs N --jsonl FILE`` (every label form
  read, conformance checked, signature verified, ProduceID traced) against ``exiftool -r
  -XMP-TC260:AIGC OUT``.

Beside them, ``bench.bare_reader``: a script doing only what exiftool does (labels read, file hashed,
a JSON line written; two forked processes; no CLI, no database), with and without each label's SM2
signature: the floor under the command in Python. Each figure is the wall time of the whole command,
process start-up included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.exiftool import CONFIG
from synthgov.cli.batch import LABEL_GROUP

FILES = int(os.environ.get("SYNTHGOV_BENCH_FOLDER_FILES", "2000"))
JOBS = int(os.environ.get("SYNTHGOV_BENCH_FOLDER_JOBS", str(os.cpu_count() or 1)))


def _timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run() -> dict:
    if not shutil.which("exiftool"):
        raise SystemExit("exiftool is needed for the side-by-side benchmark")
    import compileall

    import synthgov

    # as installed: pip compiles a package's bytecode at install; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every module again at each start (about 0.25 s)
    compileall.compile_dir(Path(synthgov.__file__).parent, quiet=1)
    source = Path(__file__).parent / ".corpus" / "folder"
    files = corpus.build(source, FILES)
    work = Path(tempfile.mkdtemp(prefix="synthgov-bench-folders-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGOV_")} | {"SYNTHGOV_DATA_DIR": str(work / "d")}
    synthgov = [sys.executable, "-m", "synthgov"]
    subprocess.run(synthgov + ["init", "--demo"], env=env, check=True, capture_output=True)
    (work / "tc260.config").write_text(CONFIG)
    exiftool = ["exiftool", "-config", str(work / "tc260.config"), "-q", "-q"]
    value = '{"Label":"1","ContentProducer":"0011910000000000DEM00L10001","ProduceID":"bench"}'
    seconds = {}
    try:
        (work / "et").mkdir()
        seconds["exiftool write"] = _timed(exiftool + [f"-XMP-TC260:AIGC={value}", "-o", f"{work / 'et'}/", str(source)])
        seconds["synthgov label"] = _timed(synthgov + ["label", "image", str(source), "-o", str(work / "sg"),
                                                       "--no-visible", "--no-watermark", "--jobs", str(JOBS)], env)
        nofp = env | {"SYNTHGOV_FINGERPRINT": "false"}
        seconds["synthgov label, no PDQ"] = _timed(synthgov + ["label", "image", str(source), "-o",
                                                               str(work / "sg-nofp"), "--no-visible", "--no-watermark",
                                                               "--jobs", str(JOBS)], nofp)
        seconds["exiftool read"] = _timed(exiftool + ["-r", "-s3", "-XMP-TC260:AIGC", str(work / "sg")])
        seconds["synthgov inspect"] = _timed(synthgov + ["inspect", str(work / "sg"), "--jobs", str(JOBS), "--jsonl",
                                                         str(work / "inspect.jsonl")], env)
        bare = [sys.executable, "-m", "bench.bare_reader", str(work / "sg"), str(work / "bare.jsonl"), "--jobs", str(JOBS)]
        seconds["bare reader"] = _timed(bare, env)
        seconds["bare reader + SM2"] = _timed(bare + ["--verify"], env)
        seconds["synthgov inspect, 1 job"] = _timed(synthgov + ["inspect", str(work / "sg"), "--jsonl",
                                                                str(work / "inspect1.jsonl")], env)
        one = next(iter(sorted((work / "sg").iterdir())))
        startup = min(_timed(synthgov + ["inspect", str(one), "--json"], env) for _ in range(3))
        labeled = sum(1 for _ in (work / "sg").iterdir())
        traced = sum(1 for line in (work / "inspect.jsonl").read_text().splitlines() if '"traced"' in line
                     or '"record": {' in line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rates = {k: round(FILES / v, 1) for k, v in seconds.items()}
    return {
        "files": FILES, "jobs": JOBS, "group": LABEL_GROUP, "labeled": labeled, "inspected_with_record": traced,
        "megabytes": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "seconds": {k: round(v, 2) for k, v in seconds.items()}, "files_per_s": rates,
        "inspect_one_file_s": round(startup, 2),  # the whole command on one file: start-up, mostly
        "ratios": {
            "label / exiftool write": round(rates["synthgov label"] / rates["exiftool write"], 1),
            "label, no PDQ / exiftool write": round(rates["synthgov label, no PDQ"] / rates["exiftool write"], 1),
            "inspect / exiftool read": round(rates["synthgov inspect"] / rates["exiftool read"], 1),
            "inspect, 1 job / exiftool read": round(rates["synthgov inspect, 1 job"] / rates["exiftool read"], 1),
            "bare reader / exiftool read": round(rates["bare reader"] / rates["exiftool read"], 1),
            "bare reader + SM2 / exiftool read": round(rates["bare reader + SM2"] / rates["exiftool read"], 1),
        },
    }
