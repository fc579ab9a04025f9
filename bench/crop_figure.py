"""docs/images/watermark-crop.png: the same flat crops at 2x, unmarked, with the uniform mark that
issue 9 replaced, and with the perceptual mark.

    .venv/bin/python -m bench.crop_figure [--old-src PATH]

``--old-src`` is the ``src`` folder of a checkout of the commit before the perceptual model
(9749885: ``git worktree add /tmp/old 9749885``); the old embedder runs in a subprocess from there.
Without it the figure is drawn from the old images kept in bench/results/crop-old-*.png.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.watermark import KEY, PAYLOAD, screenshot_like
from synthgov.modalities.image import watermark as wm
from synthgov.modalities.image.visible import FONT_PATH
from synthgov.watermarking.quality import ssimulacra2

ROOT = Path(__file__).parents[1]
PHOTOS = ROOT / "tests" / "fixtures" / "photos"
KEPT = Path(__file__).parent / "results"
# (name, host, crop box): flat night sky beside the rocket; the UI's header bar and page background
CASES = (("rocket", lambda: Image.open(PHOTOS / "rocket.jpg").convert("RGB"), (20, 20, 220, 140)),
         ("ui", lambda: screenshot_like((1280, 800)), (330, 20, 530, 140)))
OLD = """
import sys
from PIL import Image
from synthgov.modalities.image import watermark as wm
wm_in, out = sys.argv[1], sys.argv[2]
wm.embed(Image.open(wm_in).convert("RGB"), {key!r}, {payload}).save(out)
"""


def old_mark(name: str, host: Image.Image, old_src: Path | None) -> Image.Image:
    kept = KEPT / f"crop-old-{name}.png"
    if old_src is not None:
        source = KEPT / f"crop-host-{name}.png"
        KEPT.mkdir(exist_ok=True)
        host.save(source)
        subprocess.run([sys.executable, "-c", OLD.format(key=KEY, payload=PAYLOAD), str(source), str(kept)],
                       env={"PYTHONPATH": str(old_src)}, check=True)
        source.unlink()
    return Image.open(kept).convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-src", type=Path)
    args = parser.parse_args()
    font = ImageFont.truetype(str(FONT_PATH), 16)
    tiles = []
    for name, make, box in CASES:
        host = make()
        old = old_mark(name, host, args.old_src)
        new = wm.embed(host, KEY, PAYLOAD)
        row = []
        for title, image in (("original", host), ("uniform mark (before)", old), ("perceptual mark (now)", new)):
            score = "" if image is host else f", SSIMULACRA2 {ssimulacra2(host, image):.0f}"
            crop = image.crop(box).resize(((box[2] - box[0]) * 2, (box[3] - box[1]) * 2), Image.Resampling.NEAREST)
            row.append((f"{name}: {title}{score}", crop))
        tiles.append(row)
    w, h = tiles[0][0][1].size
    pad, caption = 10, 24
    sheet = Image.new("RGB", (3 * w + 4 * pad, len(tiles) * (h + caption + pad) + pad), "white")
    d = ImageDraw.Draw(sheet)
    for r, row in enumerate(tiles):
        for c, (title, crop) in enumerate(row):
            x, y = pad + c * (w + pad), pad + r * (h + caption + pad)
            d.text((x, y), title, fill="black", font=font)
            sheet.paste(crop, (x, y + caption))
    out = ROOT / "docs" / "images" / "watermark-crop.png"
    sheet.save(out, optimize=True)
    print(out)


if __name__ == "__main__":
    main()
