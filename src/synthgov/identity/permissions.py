"""Permissions of the identity domain."""

from __future__ import annotations

from enum import StrEnum


class IdentityPermission(StrEnum):
    APIKEY_MANAGE = "apikey:manage"  # create, list and revoke API keys
