"""The image modality: JPEG, PNG, WebP, TIFF and GIF.

Capabilities: one-pass labeling (watermark, visible label GB 45438 5.2, XMP ``TC260:AIGC`` per
TC260-PG-20259A), metadata-label reading (also the Annex B EXIF UserComment and PNG text forms),
the keyed watermark (``watermark/``) and PDQ fingerprints.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ImageConfig", "ImageHandler"]


def __getattr__(name: str) -> Any:  # the handler (Pillow, numpy) loads when first asked for
    if name in __all__:
        from synthgov.modalities.image import handler

        return getattr(handler, name)
    raise AttributeError(name)
