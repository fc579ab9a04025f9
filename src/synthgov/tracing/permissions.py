"""Permissions of the tracing domain."""

from __future__ import annotations

from enum import StrEnum


class TracingPermission(StrEnum):
    INSPECT = "inspect"  # inspect content: read, verify and trace labels
