"""Audit log: appends/s (single and batched, SQLite and PostgreSQL), verifying 1,000,000 entries,
proof time and size, side by side with pymerkle (a well-known Python Merkle library) on the same
entries. Both use SHA-256 here so that the hashing is the same; synthgov's default SM3 costs about
twice as much per hash (see the hash line in the results).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

N_VERIFY = int(os.environ.get("SYNTHGOV_BENCH_AUDIT_ENTRIES", "1000000"))
SINGLE = 2000
BATCH = 5000


def _platform(url: str | None, work: Path):
    from synthgov.bootstrap import open_platform
    from synthgov.config import load_settings
    from synthgov.provider.service import DEMO_PROVIDER_CODE, init_provider

    settings = load_settings(data_dir=work, database_url=url, audit_hash="sha256")
    init_provider(settings, provider_code=DEMO_PROVIDER_CODE, provider_name="bench", demo=True)
    return open_platform(load_settings(data_dir=work, database_url=url, audit_hash="sha256"))


def _appends(platform, actor, total: int, batch: int) -> float:
    from synthgov.audit import service
    from synthgov.identity.events import ApiKeyRevoked

    start = time.perf_counter()
    done = 0
    while done < total:
        n = min(batch, total - done)
        with platform.unit_of_work(actor) as ctx:
            if batch == 1:
                service.record(ctx, ApiKeyRevoked(f"key-{done}"))
            else:
                service.record_many(ctx, [ApiKeyRevoked(f"key-{done + i}") for i in range(n)])
        done += n
    return total / (time.perf_counter() - start)


def _pg_database() -> tuple[str | None, object]:
    url = os.environ.get("SYNTHGOV_BENCH_POSTGRES_URL") or os.environ.get("SYNTHGOV_TEST_POSTGRES_URL")
    if not url:
        return None, lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"synthgov_bench_{os.getpid()}"
    admin_url = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def _checkpoints(log, work: Path) -> dict:
    """Milliseconds to make one checkpoint of the grown log: alone, and cosigned by a synthgov
    witness served over HTTP on this machine (the round trip a real witness adds is the network's)."""
    from synthgov.api.background import serve_in_background
    from synthgov.audit.checkpoints import log_verifiers, make_checkpoint
    from synthgov.audit.policy import AuditPolicy
    from synthgov.audit.witness import witness_verifier
    from synthgov.bootstrap import open_platform
    from synthgov.config import WitnessSetting, load_settings
    from synthgov.permissions import Actor
    from synthgov.storage import migrate

    def median_ms(platform, n=30) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            outcome = make_checkpoint(platform, force=True)
            times.append(time.perf_counter() - t)
            assert not outcome.problems, outcome.problems
        return round(statistics.median(times) * 1000, 2)

    out = {"checkpoint_ms": median_ms(log)}
    witness = open_platform(load_settings(data_dir=work / "witness", witness_logs=[{
        "origin": log.policy(AuditPolicy).origin, "keys": [v.vkey for v in log_verifiers(log)], "hash": "sha256"}]))
    migrate.upgrade(witness.engine)
    with witness.unit_of_work(Actor.operator("bench")) as ctx:
        key = witness_verifier(ctx).vkey
    with serve_in_background(witness) as url:
        cosigned = open_platform(log.settings.model_copy(update={
            "audit_witnesses": [WitnessSetting(url=f"{url}/v1/witness", key=key)]}))
        out["checkpoint_witnessed_ms"] = median_ms(cosigned)
        cosigned.close()
    witness.close()
    return out


def run() -> dict:
    import pymerkle

    from synthgov.audit import checks, service
    from synthgov.audit.models import AuditEvent
    from synthgov.permissions import Actor

    actor = Actor.operator("bench")
    out: dict = {"entries": N_VERIFY}
    work = Path(tempfile.mkdtemp(prefix="synthgov-bench-audit-"))
    try:
        # -- SQLite: single, batched, then grow to N_VERIFY and verify/prove ---------------------
        sqlite = _platform(None, work / "sqlite")
        out["sqlite_single_per_s"] = round(_appends(sqlite, actor, SINGLE, 1))
        grow = N_VERIFY - SINGLE - 1
        out["sqlite_batched_per_s"] = round(_appends(sqlite, actor, grow, BATCH))
        with sqlite.unit_of_work(actor) as ctx:
            t = time.perf_counter()
            result = checks.verify_log(ctx)
            out["verify_s"] = round(time.perf_counter() - t, 2)
            assert result.ok and result.entries == N_VERIFY, result.problems
            head = service.tree_head(ctx)
        rng = random.Random(1)
        picks = [rng.randrange(N_VERIFY) for _ in range(1000)]
        times, sizes = [], []
        with sqlite.unit_of_work(actor) as ctx:
            for i in picks:
                t = time.perf_counter()
                proof = service.prove_inclusion(ctx, index=i)
                times.append(time.perf_counter() - t)
                sizes.append(32 * len(proof["path"]))
            t = time.perf_counter()
            for m in picks[:200]:
                service.prove_consistency(ctx, first=max(1, m))
            out["consistency_proof_ms"] = round((time.perf_counter() - t) / 200 * 1000, 3)
        out["inclusion_proof_ms_median"] = round(statistics.median(times) * 1000, 3)
        out["inclusion_proof_ms_p99"] = round(sorted(times)[int(len(times) * 0.99)] * 1000, 3)
        out["inclusion_proof_bytes"] = max(sizes)

        # -- checkpoints: signed, fsynced to the file, with and without a witness over HTTP --------
        out.update(_checkpoints(sqlite, work))

        # -- pymerkle on the very same leaves ------------------------------------------------------
        with sqlite.sessionmaker() as s:
            leaves = [row[0].encode() for row in s.execute(
                AuditEvent.__table__.select().with_only_columns(AuditEvent.leaf).order_by(AuditEvent.idx))]
        sqlite.close()
        mem = pymerkle.InmemoryTree(algorithm="sha256")
        t = time.perf_counter()
        for leaf in leaves[:SINGLE]:
            mem.append_entry(leaf)
        out["pymerkle_inmemory_single_per_s"] = round(SINGLE / (time.perf_counter() - t))
        t = time.perf_counter()
        mem = pymerkle.InmemoryTree.init_from_entries(leaves, algorithm="sha256")
        out["pymerkle_inmemory_build_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        root = mem.get_root()
        out["pymerkle_root_s"] = round(time.perf_counter() - t, 2)
        out["same_root_as_pymerkle"] = root.hex() == head.root
        ptimes, psizes = [], []
        for i in picks:
            t = time.perf_counter()
            proof = mem.prove_inclusion(i + 1, N_VERIFY)
            ptimes.append(time.perf_counter() - t)
            psizes.append(32 * len(proof.path))
        out["pymerkle_inclusion_proof_ms_median"] = round(statistics.median(ptimes) * 1000, 3)
        out["pymerkle_inclusion_proof_bytes"] = max(psizes)
        del mem
        ptree = pymerkle.SqliteTree(str(work / "pymerkle.db"), algorithm="sha256")
        t = time.perf_counter()
        ptree.append_entries(leaves[:200_000], chunksize=BATCH)
        out["pymerkle_sqlite_batched_per_s"] = round(200_000 / (time.perf_counter() - t))
        t = time.perf_counter()
        for leaf in leaves[:SINGLE]:
            ptree.append_entry(leaf)
        out["pymerkle_sqlite_single_per_s"] = round(SINGLE / (time.perf_counter() - t))
        ptree.con.close() if hasattr(ptree, "con") else None
        del leaves

        # -- PostgreSQL -----------------------------------------------------------------------------
        url, drop = _pg_database()
        if url:
            try:
                pg = _platform(url, work / "pg")
                out["postgres_single_per_s"] = round(_appends(pg, actor, SINGLE, 1))
                out["postgres_batched_per_s"] = round(_appends(pg, actor, 100_000, BATCH))
                pg.close()
            finally:
                drop()
        else:
            out["postgres"] = "skipped: set SYNTHGOV_BENCH_POSTGRES_URL"

        # -- raw hash cost ----------------------------------------------------------------------------
        data = b"\x01" + bytes(64)
        for alg in ("sha256", "sm3"):
            t = time.perf_counter()
            for _ in range(200_000):
                hashlib.new(alg, data).digest()
            out[f"{alg}_node_hash_us"] = round((time.perf_counter() - t) / 200_000 * 1e6, 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
