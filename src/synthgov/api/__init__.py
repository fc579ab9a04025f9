"""HTTP surface: ``create_app(platform)``."""

from synthgov.api.app import create_app

__all__ = ["create_app"]
