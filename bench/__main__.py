"""``make bench``: run every benchmark, print the results, rewrite docs/benchmarks.md."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"


def main(argv: list[str]) -> None:
    from bench import labels

    RESULTS.mkdir(exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = labels.run()
    result["when"] = started
    result["machine"] = f"{platform.machine()}, Python {platform.python_version()}"
    (RESULTS / "labels.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    write_docs({"labels": result})


def write_docs(results: dict) -> None:
    r = results["labels"]
    rows = "\n".join(f"| {k} | {v} |" for k, v in r["files_per_s"].items())
    ratios = "\n".join(f"| {k} | **{v}×** |" for k, v in r["ratios"].items())
    text = f"""# Benchmarks

Produced by `make bench` (`python -m bench`); raw numbers in `bench/results/*.json`. Machines are shared
and noisy, so compare the **ratios** measured side by side in one run, not absolute times. Each
figure is the best of {r['rounds']} rounds.

## Metadata-only labeling and inspection vs exiftool

{r['files']} real photographs ({r['megabytes']} MB; random crops of the test photographs at 256–1024 px,
JPEG, PNG and WebP in turn), run {r['when']} on {r['machine']}.

* **exiftool** (the peer): one `exiftool -stay_open` batch process writing `-XMP-TC260:AIGC=…` into a
  new file (with a config defining the TC260 namespace), and reading `-XMP-TC260:AIGC` back.
* **synthgov label (service)**: the full `synthgov label --no-visible` path per file, each in its own
  transaction: container validation, SM3withSM2 signature, XMP write, read-back check, output file,
  generation record and audit event committed to SQLite.
* **synthgov label (handler)**: the XMP write and read-back only (what exiftool does).
* **synthgov inspect (service)**: read every label form, check conformance, verify the SM2
  signature, trace the ProduceID in the database.
* **synthgov read (handler)**: label reading and conformance checks only.

| Step | files/s |
|---|---|
{rows}

| Ratio (synthgov / exiftool) | |
|---|---|
{ratios}
"""
    (ROOT / "docs" / "benchmarks.md").write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
