"""A quick look at the image watermark's margin: per natural photograph of the benchmark corpus,
SSIMULACRA2 of the marked image, the code symbols' SNR (dB, at the known geometry, planes combined
as maximal-ratio combining does) after JPEG q50 and WebP 75, whether the screenshot chain reads,
and how many of two crop + resize + JPEG copies read. SNR moves continuously where recovery only
flips, so a change to the embedder can be judged on a few dozen images in minutes.

    .venv/bin/python -m bench.watermark_snr [STRENGTH] [STEP]   # every STEP-th photograph (default 2)

Set SYNTHGOV_BENCH_WM_MAX_SIDE to keep only photographs whose shortest side is at most that, and
SYNTHGOV_BENCH_WM_CONFIG to a JSON object of `[modalities.image.watermark]` settings to try (for
example '{"gain_range": [0.4, 3.0]}').
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

from bench.watermark import KEY, PAYLOAD, full_corpus, is_flat
from bench.watermark_robustness import encode
from synthgov.modalities.image import watermark as wm
from synthgov.modalities.image.watermark.config import DEFAULT
from synthgov.modalities.image.watermark.embedding import symbol_snr

STRENGTH = float(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT.strength
STEP = int(sys.argv[2]) if len(sys.argv) > 2 else 2
MAX_SIDE = int(os.environ.get("SYNTHGOV_BENCH_WM_MAX_SIDE", "100000"))
CFG = DEFAULT.model_validate({**DEFAULT.model_dump(), **json.loads(os.environ.get("SYNTHGOV_BENCH_WM_CONFIG", "{}")),
                              "strength": STRENGTH})
_CORPUS: list | None = None


def corpus() -> list[tuple[str, Image.Image]]:
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = [x for x in full_corpus() if not is_flat(x[0]) and min(x[1].size) <= MAX_SIDE][::STEP]
    return _CORPUS


def snr(image: Image.Image) -> float:
    """The code symbols' SNR (dB) at the canonical geometry (the embedder's own measure), in the
    layout the embedder chose (of those it may use at this size, the one that reads)."""
    return max(symbol_snr(image, KEY, PAYLOAD, layout.work, CFG) for layout in CFG.layouts_for(min(image.size)))


def reads(image: Image.Image) -> bool:
    found = wm.detect(image, KEY, CFG)
    return found is not None and found.payload == PAYLOAD


def one(index: int) -> dict:
    from synthgov.watermarking.quality import ssimulacra2

    label, image = corpus()[index]
    start = time.perf_counter()
    marked, strength = wm.embed_reported(image, KEY, PAYLOAD, CFG)
    row = {"image": label, "embed_ms": round((time.perf_counter() - start) * 1000),
           "ssimulacra2": round(float(ssimulacra2(image, marked)), 2),
           "reported": strength.margin,  # what the record says: its check is this same JPEG q50 reading
           "jpeg50": snr(encode(marked, "JPEG", quality=50, subsampling=2)),
           "webp75": snr(encode(marked, "WEBP", quality=75))}
    w, h = marked.size
    row["screenshot"] = reads(encode(marked.resize((int(w * 0.75), int(h * 0.75)), Image.Resampling.BILINEAR),
                                     "JPEG", quality=85))
    rng = np.random.default_rng(index)
    cw, ch = int(w * np.sqrt(0.7)), int(h * np.sqrt(0.7))
    row["crop_resize_jpeg"] = 0
    for _ in range(2):
        ox, oy = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        part = marked.crop((ox, oy, ox + cw, oy + ch)).resize((int(cw * 0.8), int(ch * 0.8)),
                                                                Image.Resampling.BILINEAR)
        row["crop_resize_jpeg"] += reads(encode(part, "JPEG", quality=75))
    return row


def main() -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(one, range(len(corpus()))))
    for row in rows:
        print(json.dumps(row))
    s2 = [r["ssimulacra2"] for r in rows]
    print(f"{len(rows)} photographs at strength {STRENGTH}: SSIMULACRA2 median {np.median(s2):.1f}, min {min(s2):.1f}")
    for attack in ("jpeg50", "webp75"):
        values = np.array([r[attack] for r in rows])
        print(f"{attack}: SNR median {np.median(values):.1f} dB, under 3 dB {int((values < 3).sum())}")
    gap = np.array([r["jpeg50"] - r["reported"] for r in rows])
    print(f"record's SNR against a fresh JPEG q50 reading: median {np.median(gap):+.1f} dB, "
          f"from {gap.min():+.1f} to {gap.max():+.1f} (positive: the record is cautious)")
    print(f"screenshot read {sum(r['screenshot'] for r in rows)}/{len(rows)}; crop + resize + JPEG read "
          f"{sum(r['crop_resize_jpeg'] for r in rows)}/{2 * len(rows)}")


if __name__ == "__main__":
    main()
