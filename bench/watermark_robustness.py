"""The attacks of the image watermark benchmark (issue 4), and a quick per-photo run.

`bench/watermark.py` (part of `make bench`) applies ``attacks`` to every marked image. Run this file
on its own (`.venv/bin/python -m bench.watermark_robustness`) for a quick look: it marks the test
photographs at three sizes and prints which attacks lost the payload.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from synthgov.modalities.image import visible
from synthgov.modalities.image import watermark as wm

PHOTOS = Path(__file__).parents[1] / "tests" / "fixtures" / "photos"
KEY = b"k" * 32
PAYLOAD = 0x123456789ABCDEF0


def psnr(a: Image.Image, b: Image.Image) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(10 * np.log10(255**2 / np.mean((x - y) ** 2)))


def encode(im: Image.Image, fmt: str, **kw) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


OFFSETS = 4  # random offsets per image for the crop and the crop + resize + JPEG chain


def attacks(m: Image.Image, rng: np.random.Generator) -> dict[str, Image.Image]:
    """Attack name -> attacked image; "name#k" is the k-th random offset of a cropping attack (the
    benchmark counts each offset as one trial of "name")."""
    w, h = m.size
    cw, ch = int(w * np.sqrt(0.7)), int(h * np.sqrt(0.7))
    crops = []
    for _ in range(OFFSETS):
        ox, oy = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crops.append(m.crop((ox, oy, ox + cw, oy + ch)))
    crop = crops[0]
    noise = np.clip(np.asarray(m, dtype=np.float32) + rng.normal(0, 5, (h, w, 3)), 0, 255).astype(np.uint8)
    labeled = m
    try:
        geometry = visible.layout(m.size, "AI生成", "bottom-right", 0.06)
        labeled = visible.draw_label(m, "AI生成", geometry).convert("RGB")
    except Exception:  # noqa: BLE001 - too small for a visible label: the attack is a no-op
        pass
    out = {
        "none": m,
        "visible-label": labeled,
        "jpeg50": encode(m, "JPEG", quality=50, subsampling=2),
        "jpeg75": encode(m, "JPEG", quality=75, subsampling=2),
        "webp75": encode(m, "WEBP", quality=75),
        "resize0.5": m.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
        "resize1.5": m.resize((int(w * 1.5), int(h * 1.5)), Image.Resampling.BICUBIC),
        "crop70": crop,
        "rot+3": m.rotate(3, Image.Resampling.BICUBIC),
        "rot-3": m.rotate(-3, Image.Resampling.BICUBIC),
        "rot90": m.rotate(90, expand=True),
        "mirror": m.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "screenshot": encode(m.resize((int(w * 0.75), int(h * 0.75)), Image.Resampling.BILINEAR), "JPEG", quality=85),
        "bright+20": ImageEnhance.Brightness(m).enhance(1.2),
        "bright-20": ImageEnhance.Brightness(m).enhance(0.8),
        "contrast0.8": ImageEnhance.Contrast(m).enhance(0.8),
        "blur1": m.filter(ImageFilter.GaussianBlur(1)),
        "noise5": Image.fromarray(noise),
    }
    for k, part in enumerate(crops):
        suffix = f"#{k + 1}" if k else ""
        if k:
            out[f"crop70{suffix}"] = part
        out[f"crop+resize+jpeg{suffix}"] = encode(part.resize((int(cw * 0.8), int(ch * 0.8)),
                                                              Image.Resampling.BILINEAR), "JPEG", quality=75)
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    totals: dict[str, int] = {}
    trials: dict[str, int] = {}
    for name in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"):
        photo = Image.open(PHOTOS / name).convert("RGB")
        for size in (None, (1024, 1024), (700, 1200)):
            src = photo if size is None else photo.resize(size)
            start = time.perf_counter()
            marked = wm.embed(src, KEY, PAYLOAD)
            embed_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            wm.detect(marked, KEY)
            detect_ms = (time.perf_counter() - start) * 1000
            lost = []
            for attack, image in attacks(marked, rng).items():
                found = wm.detect(image, KEY)
                ok = found is not None and found.payload == PAYLOAD
                attack = attack.split("#")[0]
                totals[attack] = totals.get(attack, 0) + ok
                trials[attack] = trials.get(attack, 0) + 1
                if not ok:
                    lost.append(attack)
            print(f"{name} {src.size}: PSNR {psnr(src, marked):.1f} dB, embed {embed_ms:.0f} ms, "
                  f"detect {detect_ms:.0f} ms, lost after: {', '.join(lost) or 'nothing'}", flush=True)
    print("exact recovery per attack:", {k: f"{v}/{trials[k]}" for k, v in totals.items()})


if __name__ == "__main__":
    main()
