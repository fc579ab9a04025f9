"""The image watermark: a keyed, classical, CPU-fast spread-spectrum mark (GB 45438 6.2 content
implicit label), one scheme of :mod:`synthgov.watermarking`.

Hand-written: no maintained library does synchronised spread-spectrum image marks; the peers in
shared/docs/research/image-watermark-anchors.md lose the payload to crops, rotation and rescaling.
Measured robustness, false positives and speed: docs/benchmarks.md; the design in words:
docs/watermark.md. The files, by role:

* ``config``: the tuning constants, typed and documented;
* ``patterns``: keyed orthonormal cell patterns (pilot + one per coded bit) and their smooth tiles;
* ``frontend``: the detector's planes (luminance, green-red chroma), whitening, folding;
* ``masking``: the perceptual model: the mark's amplitude at every place of each plane;
* ``embedding``: improved spread spectrum shaped by that model, in strips (bounded memory);
* ``sync``: lattice autocorrelation, pilot refinement, shifts and the eight orientations;
* ``detection``: both layouts, canonical geometry first, maximal-ratio combining, list decoding.

The payload, its MAC, the code and the list decoder are the shared ones (``watermarking``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from synthgov.modalities.image.watermark.config import CODEC, DEFAULT, ImageWatermarkConfig
from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.scheme import MarkStrength, Reading, TooSmall, Unmarkable

if TYPE_CHECKING:
    from PIL import Image

    from synthgov.modalities.image.watermark.detection import Detection, detect
    from synthgov.modalities.image.watermark.embedding import embed, embed_reported
    from synthgov.watermarking.payload import DecodeStats

SCHEME = "image/keyed-ss-v2"
# the embedder and the detector (numpy, SciPy) load on first use: a command that reads only
# metadata labels never pays for them
_LAZY = {"Detection": "detection", "detect": "detection", "embed": "embedding", "embed_reported": "embedding"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ImageWatermark:
    """The scheme object: ``embed``/``detect`` on Pillow images under one config."""

    name: ClassVar[str] = SCHEME
    codec = CODEC

    def __init__(self, config: ImageWatermarkConfig = DEFAULT) -> None:
        self.config = config

    @property
    def budget(self) -> FalsePositiveBudget:
        return self.config.budget

    def embed(self, host: Image.Image, key: bytes, payload: int) -> Image.Image:
        from synthgov.modalities.image.watermark.embedding import embed

        return embed(host, key, payload, self.config)

    def embed_reported(self, host: Image.Image, key: bytes, payload: int) -> tuple[Image.Image, MarkStrength]:
        from synthgov.modalities.image.watermark.embedding import embed_reported

        return embed_reported(host, key, payload, self.config)

    def detect(self, host: Image.Image, key: bytes, *, stats: DecodeStats | None = None) -> Reading | None:
        from synthgov.modalities.image.watermark.detection import detect

        found = detect(host, key, self.config, stats=stats)
        if found is None:
            return None
        return Reading(found.payload, found.confidence, {"scale": found.scale, "rotation_deg": found.rotation_deg,
                                                         "mirrored": found.mirrored, "margin": found.bit_margin})


__all__ = ["CODEC", "DEFAULT", "SCHEME", "Detection", "ImageWatermark", "ImageWatermarkConfig", "TooSmall",
           "Unmarkable", "detect", "embed", "embed_reported"]
