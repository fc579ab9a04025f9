"""Permissions of the labeling domain."""

from __future__ import annotations

from enum import StrEnum


class LabelingPermission(StrEnum):
    LABEL_CREATE = "label:create"  # label generated content
