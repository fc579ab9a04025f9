"""A corpus of real photographs in several formats, derived from the test photographs."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

PHOTOS = Path(__file__).parents[1] / "tests" / "fixtures" / "photos"
FORMATS = (("JPEG", ".jpg", {"quality": 85}), ("PNG", ".png", {}), ("WEBP", ".webp", {"quality": 80}))


def build(folder: Path, count: int, seed: int = 2026) -> list[Path]:
    """``count`` files: random crops of the photographs at 256-1024 px, JPEG, PNG and WebP in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = [Image.open(p).convert("RGB") for p in sorted(PHOTOS.iterdir()) if p.suffix in (".png", ".jpg")]
    paths = []
    for i in range(count):
        fmt, ext, opts = FORMATS[i % len(FORMATS)]
        path = folder / f"img{i:04d}{ext}"
        paths.append(path)
        if path.exists():
            continue
        src = sources[i % len(sources)]
        w, h = src.size
        cw, ch = rng.randint(w // 2, w), rng.randint(h // 2, h)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        side = rng.randint(256, 1024)
        crop = src.crop((x, y, x + cw, y + ch))
        scale = side / max(cw, ch)
        im = crop.resize((max(16, round(cw * scale)), max(16, round(ch * scale))), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, fmt, **opts)
        path.write_bytes(buf.getvalue())
    return paths
