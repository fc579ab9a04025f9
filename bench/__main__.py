"""``make bench``: run the benchmarks, print the results, rewrite docs/benchmarks.md.

``python -m bench`` runs all; ``python -m bench labels`` or ``python -m bench audit`` runs one and
keeps the other's last results (bench/results/*.json) in the page.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"
BENCHES = ("labels", "folders", "audit", "watermark", "cli", "soak", "hostile")


def main(argv: list[str]) -> None:
    import importlib

    chosen = [a for a in argv if a in BENCHES] or list(BENCHES)
    RESULTS.mkdir(exist_ok=True)
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        result = module.run()
        result["when"] = started
        result["machine"] = f"{platform.machine()}, Python {platform.python_version()}"
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({name: result}, indent=2))
    results = {n: json.loads((RESULTS / f"{n}.json").read_text()) for n in BENCHES if (RESULTS / f"{n}.json").exists()}
    write_docs(results)


def _labels(r: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in r["files_per_s"].items())
    ratios = "\n".join(f"| {k} | **{v}×** |" for k, v in r["ratios"].items())
    return f"""## Metadata-only labeling and inspection vs exiftool

Command: `make bench` (or `python -m bench labels`). {r['files']} real photographs ({r['megabytes']} MB;
random crops of the test photographs at 256–1024 px, JPEG, PNG and WebP in turn), run {r['when']} on
{r['machine']}. Each figure is the best of {r['rounds']} rounds.

* **exiftool** (the peer): one `exiftool -stay_open` batch process writing `-XMP-TC260:AIGC=…` into a
  new file (with a config defining the TC260 namespace), and reading `-XMP-TC260:AIGC` back.
* **synthgov label (service)**: the full `synthgov label --no-visible --no-watermark` path per file,
  each in its own transaction: container validation, SM3withSM2 signature, XMP write, read-back check,
  PDQ fingerprint (this decodes the image; also measured with `fingerprint = false`), output file,
  generation record and audit-log entry committed to SQLite.
* **synthgov label (handler)**: the XMP write and read-back check only (what exiftool does).
* **synthgov inspect (service)**: read every label form, check conformance, verify the SM2
  signature, trace the ProduceID in the database.
* **synthgov read (handler)**: label reading and conformance checks only (what exiftool does).

| Step | files/s |
|---|---|
{rows}

| Ratio (synthgov / exiftool) | |
|---|---|
{ratios}

The handler does what exiftool does and is far above the 5× aim for writing and reading. The service
adds work exiftool does not do: a signature, a database transaction with a Merkle audit entry and,
by default, a PDQ fingerprint, which has to decode the image; those rows are for information. The
inspection service also verifies an SM2 signature (about 0.35 ms) and traces the record per file.
"""


def _audit(r: dict) -> str:
    pg = (f"| PostgreSQL single appends/s (one transaction each) | {r['postgres_single_per_s']} | — |\n"
          f"| PostgreSQL batched appends/s (5,000 per transaction) | {r['postgres_batched_per_s']} | — |"
          if "postgres_single_per_s" in r else f"| PostgreSQL | {r.get('postgres')} | |")
    return f"""## Audit log vs pymerkle

Command: `make bench` (or `python -m bench audit`; `SYNTHGOV_BENCH_POSTGRES_URL` adds PostgreSQL). Run
{r['when']} on {r['machine']}. {r['entries']:,} entries, SHA-256 on both sides; synthgov's default SM3
costs {r['sm3_node_hash_us']} µs per node hash against {r['sha256_node_hash_us']} µs for SHA-256.
pymerkle 7 gets the very same leaf bytes; both trees have the same root: **{r['same_root_as_pymerkle']}**.

| | synthgov | pymerkle |
|---|---|---|
| SQLite single appends/s (one transaction each, with the event's Merkle nodes) | {r['sqlite_single_per_s']} | {r['pymerkle_sqlite_single_per_s']} (`SqliteTree.append_entry`) |
| SQLite batched appends/s (5,000 per transaction) | **{r['sqlite_batched_per_s']}** | {r['pymerkle_sqlite_batched_per_s']} (`SqliteTree.append_entries`, stores leaves only; nodes are hashed later, on demand) |
| In-memory appends/s | — | {r['pymerkle_inmemory_single_per_s']} (`InmemoryTree.append_entry`) |
{pg}
| Verify the whole log of {r['entries']:,} entries (re-hash every leaf and private part, re-derive every column, rebuild the tree, check kept heads and checkpoints) | **{r['verify_s']} s** | {r['pymerkle_inmemory_build_s']} s to build an in-memory tree from the entries (no stored text checked) |
| Inclusion proof, median (p99) | **{r['inclusion_proof_ms_median']} ms** ({r['inclusion_proof_ms_p99']} ms), from SQLite, with the signed head | {r['pymerkle_inclusion_proof_ms_median']} ms, in memory |
| Inclusion proof size | {r['inclusion_proof_bytes']} bytes | {r['pymerkle_inclusion_proof_bytes']} bytes |
| Consistency proof, mean | {r['consistency_proof_ms']} ms | — |
| A signed checkpoint, fsynced to the checkpoint file (median) | {r.get('checkpoint_ms', '—')} ms | — |
| … cosigned by a synthgov witness over local HTTP (median) | {r.get('checkpoint_witnessed_ms', '—')} ms | — |

Aims: at least 20,000 batched appends/s on SQLite, verify 1,000,000 entries faster than pymerkle builds
its tree from them, a proof in under 1 ms on a quiet machine. Since checkpoints and row bindings
(issue 10) verification hashes each entry twice (leaf and private part) and re-derives every column;
the earlier leaf-only check took 0.36 of pymerkle's build time on the same machine, this one
{r['verify_s'] / r['pymerkle_inmemory_build_s']:.2f}. pymerkle is faster where it keeps everything in
memory; synthgov's figures include the database round trips and durability (every append is
committed with its Merkle nodes, so proofs never need the whole log in memory). A checkpoint costs
one signature and one fsync; a witness adds its round trip.
"""


def _cli(r: dict) -> str:
    rows = "\n".join(f"| {k} | {v} ms | {r.get('ratios', {}).get(k, '')} |" for k, v in r["ms"].items())
    return f"""## CLI start-up

Command: `make bench` (or `python -m bench cli`), run {r['when']} on {r['machine']}; whole processes, best
of {r['rounds']}. Commands import what they need only when they run, so help never loads the platform
(the aim: under 150 ms; the peer: exiftool starting and writing one file).

| Command | Best | × exiftool write |
|---|---|---|
{rows}
"""


def _soak(r: dict) -> str:
    rows = "\n".join(f"| {k} | {v['n']} | {v['p50']} ms | {v['p99']} ms | "
                     f"{', '.join(f'{s}: {n}' for s, n in r['statuses'][k].items())} |"
                     for k, v in r["latency_ms"].items())
    series = ", ".join(f"{at:.0f} s {mb} MB" for at, mb in r["memory_series"][:: max(1, len(r["memory_series"]) // 10)])
    return f"""## Soak: the HTTP API under mixed, partly hostile traffic

Command: `make bench` (or `python -m bench soak`; `SYNTHGOV_BENCH_SOAK_SECONDS`, default 1200, and
`SYNTHGOV_BENCH_SOAK_CLIENTS`, default 20). Run {r['when']} on {r['machine']}: {r['seconds']} s, {r['clients']}
concurrent clients against a real `synthgov serve --workers {r.get('workers', 1)}` (SQLite), 45 % labeling (visible label, watermark,
metadata, an `Idempotency-Key` each), 45 % inspection, 10 % hostile files (truncated, random bytes, a
bomb header, 60 MiB of compressed text chunks, 120 megapixels of GIF frames, empty).

**{r['requests']} requests, {r['requests_per_s']} requests/s; {r['server_errors']} server errors (5xx or no
answer); {r['labeled_responses']} labeled responses and {r['records']} records: {r['lost']} lost,
{r['duplicated']} duplicated, {r['unanswered_records']} records without a response.**

| Kind | Requests | p50 | p99 | Statuses |
|---|---|---|---|---|
{rows}

Server memory (RSS): {r['rss_mb']['first_minute_max']} MB at most in the first minute, {r['rss_mb']['max']} MB at most
overall, {r['rss_mb']['last']} MB at the end. Over time: {series}.

Reading it: correctness holds under load (no 5xx, every labeled response has exactly one record, every
hostile file a 4xx), with {r.get('workers', 1)} server processes sharing one SQLite database and one audit log.
Latency is queueing: 20 clients that send again as soon as they are answered wait, on average, clients /
throughput (Little's law: {r['clients']} / {r['requests_per_s']} ≈ {r['clients'] / r['requests_per_s']:.1f} s), so it
falls only as throughput rises. Throughput is CPU: every label embeds the watermark and reads it back
from a JPEG copy, every inspection of an unlabeled photograph runs the whole watermark search and a
fingerprint look-up; more cores and `--workers` raise it (the run of 2026-12-01 17:37 with one
process: 1.7 requests/s, inspect p50 22 s; this one: {r['requests_per_s']} requests/s). Hostile files wait for
a work slot like any upload (their p99), then are refused in milliseconds. Memory (all processes)
levels off after the first minutes rather than growing.
"""


def _folders(r: dict) -> str:
    rows = "\n".join(f"| {k} | {r['seconds'][k]} s | {v} |" for k, v in r["files_per_s"].items())
    ratios = "\n".join(f"| {k} | **{v}×** |" for k, v in r["ratios"].items())
    seconds = r["seconds"]
    pdq_ms = (seconds["synthgov label"] - seconds["synthgov label, no PDQ"]) * r["jobs"] / r["files"] * 1000
    one = r.get("inspect_one_file_s")
    inspect_ms = (seconds["synthgov inspect, 1 job"] - (one or 0)) / r["files"] * 1000
    startup = f"{one} s (the whole command on one file)" if one else "about 1 s"
    return f"""## Whole commands on a folder vs exiftool

Command: `make bench` (or `python -m bench folders`; `SYNTHGOV_BENCH_FOLDER_FILES`, default 2000,
`SYNTHGOV_BENCH_FOLDER_JOBS`, default the core count). {r['files']} photographs ({r['megabytes']} MB, JPEG, PNG
and WebP, 256–1024 px) in one folder, run {r['when']} on {r['machine']}; wall time of each whole command,
process start-up included:

* `exiftool -XMP-TC260:AIGC=… -o OUT/ DIR` and `exiftool -r -XMP-TC260:AIGC OUT` (one process each,
  with the TC260 namespace configured);
* `synthgov label image DIR -o OUT --no-visible --no-watermark --jobs {r['jobs']}` (every file: container
  checks, SM2 signature, XMP written and read back, PDQ fingerprint unless `fingerprint = false`,
  output, generation record and audit entry committed) and `synthgov inspect OUT --jobs {r['jobs']}
  --jsonl FILE` (every label form read and judged, signature verified, ProduceID traced, the record
  checked against its log entry and the signed checkpoint). {r['labeled']} outputs, {r['inspected_with_record']}
  inspected files traced to their record.

| Command | Wall time | files/s |
|---|---|---|
{rows}

| Ratio (synthgov / exiftool) | |
|---|---|
{ratios}

Reading it: like for like (the metadata label written, nothing computed from the pixels),
labeling is {r['ratios']['label, no PDQ / exiftool write']}× exiftool: batches commit in groups of
{r.get('group', 16)} files (one transaction, one run of audit leaves, one intent file and one fsync per folder),
where each file used to be its own transaction (4.0× before, the run of 2026-12-01 19:22). The PDQ
fingerprint is work exiftool does not do: it decodes every picture (a JPEG at a reduced scale, but
a PNG's whole zlib stream); in this run it added {pdq_ms:.1f} ms of core time a file (the two label
rows apart, times the jobs), more than everything else the label costs, and holds labeling with it
near {r['ratios']['label / exiftool write']}×.

Inspecting is {r['ratios']['inspect / exiftool read']}× exiftool (0.6× in the run of 2026-12-02 00:53, 1.5× at 06:21, 1.7× at 18:38 on a busier machine, where
exiftool took twice as long):
each worker task reads 64 files first and then looks up the records they name together (one query
each for their ProduceIDs, their content hashes, their log entries and the stored hashes of their
inclusion paths, where there were three or four queries a file), the trusted checkpoint's
signatures are checked once per process (again only when the checkpoint file changes), `--jobs`
workers are forked from one fork server that has done the imports, and (session 8) the workers
encode each result as its JSON line, so the command's own process only writes them, in groups; the
objects alive at exit are frozen out of the interpreter's last collections (0.25 s a command).
It does not reach the 5× aim, a budget of {r['seconds']['exiftool read'] / 5:.2f} s of wall time for the whole command
in this run: the command starts in {startup}: Python, its imports, the platform and the schema
check; and per file it does the work exiftool does not: the SM2 signature verified (0.5–0.6 ms
of one core a signature, in Tongsuo as in `openssl speed sm2` on this machine: the folder's
signatures alone take {r['files'] * 0.55 / 1000:.1f} s of core time), the ProduceID traced to its record, the record
re-derived against its log entry and the entry's inclusion proof against the signed checkpoint,
and a JSON line written: {inspect_ms:.1f} ms a file with one job, start-up apart.
The floor under it in Python, measured in the same run: `bench.bare_reader`, a script that does
only what exiftool does (each file read with synthgov's handler, hashed, a JSON line written, in
{r['jobs']} forked processes, no CLI and no database), is {r['ratios'].get('bare reader / exiftool read', '?')}× exiftool; with each
label's SM2 signature verified, {r['ratios'].get('bare reader + SM2 / exiftool read', '?')}×. So even the bare reading with the signature,
which `inspect` must check, stays under the aim; what the command adds over that floor is its
start-up, the record trace and the log proof. The machines
are shared and noisy (exiftool itself took from 3 to 8 s for the same folder on different runs);
the ratios are what carry over.
"""


def _hostile(r: dict) -> str:
    files = ", ".join(f"{name} ({size / 1e6:.1f} MB)" if size >= 100_000 else f"{name} ({size / 1e3:.1f} KB)"
                      for name, size in r["files"].items())
    rows = "\n".join(f"| {k} | {', '.join(f'{s}: {n}' for s, n in v.items())} |" for k, v in r["statuses"].items())
    return f"""## Hostile uploads at once

Command: `make bench` (or `python -m bench hostile`; `SYNTHGOV_BENCH_HOSTILE_CLIENTS`, default 8,
`SYNTHGOV_BENCH_HOSTILE_SECONDS`, default 120). Run {r['when']} on {r['machine']} (2 cores, 24 GB): {r['clients']}
clients at once, each sending again and again, for {r['seconds']} s, the costliest files the default limits
still accept and bombs they refuse, to a real `synthgov serve --workers {r['workers']}` with default settings
(`api_concurrent_work` 2 per process), half to `POST /v1/labels` (visible label, watermark, metadata),
half to `POST /v1/inspections`. Files: {files}.

**Peak server memory (all {r['workers']} processes): {r['peak_rss_mb']} MB. {r['requests']} answers, {r['server_errors']}
server errors, {r['busy']} busy (503); {r['labeled_responses']} labeled responses and {r['records']} records
({r['lost']} lost, {r['unanswered_records']} without a response); the server answered afterwards:
{'yes' if r['alive_after'] else 'NO'}.**

| Request | Statuses |
|---|---|
{rows}

Reading it: each process works on at most `api_concurrent_work` uploads and keeps the rest waiting at
the door with their bodies unread, so memory is bounded by processes × slots × the per-input peak
(about 1 GiB at the 32-megapixel default), not by the number of clients.
"""


def write_docs(results: dict) -> None:
    parts = ["# Benchmarks\n\nProduced by `make bench` (`python -m bench`); raw numbers in `bench/results/*.json`. "
             "Machines are shared and noisy, so compare the **ratios** measured side by side in one run, not "
             "absolute times.\n"]
    if "labels" in results:
        parts.append(_labels(results["labels"]))
    if "folders" in results:
        parts.append(_folders(results["folders"]))
    if "audit" in results:
        parts.append(_audit(results["audit"]))
    if "cli" in results:
        parts.append(_cli(results["cli"]))
    if "soak" in results:
        parts.append(_soak(results["soak"]))
    if "hostile" in results:
        parts.append(_hostile(results["hostile"]))
    if "watermark" in results:
        from bench.watermark_docs import section

        parts.append(section(results["watermark"], ROOT))
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main(sys.argv[1:])
