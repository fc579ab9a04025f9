"""Metadata-only labeling and inspection, synthgov against exiftool, on the same files in one run.

synthgov (service): the whole `synthgov label --no-visible --no-watermark` path per file: validate
the container, sign the label (SM3withSM2), write XMP, read it back, compute the PDQ fingerprint
(decodes the image; measured with and without), write the output file, commit the generation record
and its audit-log entry (SQLite). Inspection: read every label form, check conformance, verify
the signature, look the ProduceID up in the database.
synthgov (handler): only the XMP write / label read, as exiftool does.
exiftool: one `-stay_open` process writing `-XMP-TC260:AIGC=` to a new file / reading it back.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.exiftool import ExifTool


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def run(count: int = 300, rounds: int = 3) -> dict:
    from synthgov.bootstrap import open_platform
    from synthgov.config import load_settings
    from synthgov.labeling.service import label_content
    from synthgov.modalities.image import ImageHandler
    from synthgov.permissions import Actor
    from synthgov.provider.service import DEMO_PROVIDER_CODE, init_provider
    from synthgov.storage import migrate
    from synthgov.tracing.service import inspect_content

    if not shutil.which("exiftool"):
        raise SystemExit("exiftool is needed for the side-by-side benchmark (apt-get install libimage-exiftool-perl)")
    files = corpus.build(Path(__file__).parent / ".corpus" / "labels", count)
    total_bytes = sum(p.stat().st_size for p in files)
    work = Path(tempfile.mkdtemp(prefix="synthgov-bench-"))
    settings = load_settings(data_dir=work / "data")
    init_provider(settings, provider_code=DEMO_PROVIDER_CODE, provider_name="bench", demo=True)
    platform = open_platform(load_settings(data_dir=work / "data"))
    migrate.upgrade(platform.engine)
    platforms = {True: platform, False: open_platform(platform.settings.model_copy(update={"fingerprint": False}))}
    actor = Actor.operator("bench")
    handler = ImageHandler()
    exiftool = ExifTool(work)
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    try:
        for r in range(rounds):
            outs = work / f"round{r}"
            for sub in ("sg", "sgh", "et"):
                (outs / sub).mkdir(parents=True)
            label_value = '{"Label":"1","ContentProducer":"' + DEMO_PROVIDER_CODE + '","ProduceID":"bench"}'
            # exiftool writing
            t = time.perf_counter()
            for p in files:
                exiftool.write_label(p, outs / "et" / p.name, label_value)
            keep("exiftool write", time.perf_counter() - t)
            # synthgov service: with the PDQ fingerprint (default), and without it
            for fingerprint, name in ((True, "synthgov label (service)"), (False, "synthgov label (service, no PDQ)")):
                plat = platforms[fingerprint]
                t = time.perf_counter()
                for p in files:
                    with plat.unit_of_work(actor) as ctx:
                        outcome = label_content(ctx, data=p.read_bytes(), filename=p.name, visible=False,
                                                watermark=False)
                        (outs / "sg" / p.name).write_bytes(outcome.data)
                keep(name, time.perf_counter() - t)
            # synthgov handler only
            label = outcome.label
            t = time.perf_counter()
            for p in files:
                (outs / "sgh" / p.name).write_bytes(handler.write_label(p.read_bytes(), label))
            keep("synthgov label (handler)", time.perf_counter() - t)
            # reading
            labeled = sorted((outs / "sg").iterdir())
            t = time.perf_counter()
            for p in labeled:
                assert exiftool.read_label(p).startswith("{")
            keep("exiftool read", time.perf_counter() - t)
            t = time.perf_counter()
            with platform.unit_of_work(actor) as ctx:
                for p in labeled:
                    result = inspect_content(ctx, data=p.read_bytes(), name=p.name)
                    assert result.labels[0].signature.verdict == "valid"
            keep("synthgov inspect (service)", time.perf_counter() - t)
            t = time.perf_counter()
            for p in labeled:
                assert handler.read_labels(p.read_bytes()).labels
            keep("synthgov read (handler)", time.perf_counter() - t)
    finally:
        exiftool.close()
        for plat in platforms.values():
            plat.close()
        shutil.rmtree(work, ignore_errors=True)

    rates = {k: _rate(len(files), v) for k, v in best.items()}
    return {
        "files": len(files),
        "megabytes": round(total_bytes / 1e6, 1),
        "rounds": rounds,
        "files_per_s": {k: round(v, 1) for k, v in rates.items()},
        "ratios": {
            "label (service) / exiftool write": round(rates["synthgov label (service)"] / rates["exiftool write"], 1),
            "label (service, no PDQ) / exiftool write": round(
                rates["synthgov label (service, no PDQ)"] / rates["exiftool write"], 1),
            "label (handler) / exiftool write": round(rates["synthgov label (handler)"] / rates["exiftool write"], 1),
            "inspect (service) / exiftool read": round(rates["synthgov inspect (service)"] / rates["exiftool read"], 1),
            "read (handler) / exiftool read": round(rates["synthgov read (handler)"] / rates["exiftool read"], 1),
        },
    }
