"""Domain errors. Every surface turns these into a one-line message (CLI) or problem+json (API)."""

from __future__ import annotations


class SynthgovError(Exception):
    """Base of all errors meant for people. ``status`` is the HTTP status the API answers with."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, message: str, **detail: object) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidInput(SynthgovError):
    status, code, title = 422, "invalid-input", "Invalid input"


class UnsupportedMedia(SynthgovError):
    status, code, title = 415, "unsupported-media", "Unsupported media"


class CorruptMedia(SynthgovError):
    status, code, title = 422, "corrupt-media", "Corrupt or truncated file"


class HostileInput(SynthgovError):
    status, code, title = 422, "hostile-input", "Refused hostile input"


class TooLarge(SynthgovError):
    status, code, title = 413, "too-large", "Input too large"


class WatermarkUnsupported(SynthgovError):
    status, code, title = 422, "watermark-unsupported", "Cannot carry a watermark"


class NotFound(SynthgovError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(SynthgovError):
    status, code, title = 409, "conflict", "Conflict"


class Unauthenticated(SynthgovError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(SynthgovError):
    status, code, title = 403, "forbidden", "Permission denied"


class ConfigurationError(SynthgovError):
    status, code, title = 500, "configuration", "Platform not configured"
