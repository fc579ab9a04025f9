"""Permissions of the records domain."""

from __future__ import annotations

from enum import StrEnum


class RecordsPermission(StrEnum):
    RECORD_READ = "record:read"  # read whole generation records (end-user reference included)
