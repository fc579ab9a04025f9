"""What the labeling domain takes from the settings (bootstrap builds it; services never see settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from synthgov.modalities.base import ExplicitLabelSpec

if TYPE_CHECKING:
    from synthgov.config import Settings


@dataclass(frozen=True)
class LabelingPolicy:
    service_name: str
    model_name: str
    visible: ExplicitLabelSpec
    watermark: bool  # the default when a request does not say
    fingerprint: bool
    demo: bool
    max_input_bytes: int
    pending_dir: Path = Path("pending")  # intent files of outputs in flight (labeling.outputs)
    output_mode: int | None = None  # new output files' mode; None: 0o666 less the umask


def from_settings(settings: Settings) -> LabelingPolicy:
    return LabelingPolicy(
        service_name=settings.service_name,
        model_name=settings.model_name,
        visible=ExplicitLabelSpec(settings.visible_label_text, settings.visible_label_position,
                                  settings.visible_label_height_ratio),
        watermark=settings.watermark,
        fingerprint=settings.fingerprint,
        demo=settings.demo,
        max_input_bytes=settings.max_input_bytes,
        pending_dir=settings.data_dir / "pending",
        output_mode=int(settings.output_mode, 8) if settings.output_mode else None,
    )
