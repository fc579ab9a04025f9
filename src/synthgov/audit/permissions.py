"""Permissions of the audit domain."""

from __future__ import annotations

from enum import StrEnum


class AuditPermission(StrEnum):
    AUDIT_READ = "audit:read"  # read tree heads, proofs, exports and verify the log
    AUDIT_MANAGE = "audit:manage"  # keep tree heads, purge by retention, place and release legal holds
