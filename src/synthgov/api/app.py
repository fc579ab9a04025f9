"""The FastAPI application: each domain's manifest names its router. Views only translate."""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

import synthgov
from synthgov.api import problems
from synthgov.api.deps import PlatformDep
from synthgov.bootstrap import Platform
from synthgov.domains import resolve

DESCRIPTION = """Label generated content to GB 45438-2025 and trace it back to its generation record.

Authenticate with `Authorization: Bearer <key>`; create keys with `synthgov apikey create`.
Errors are `application/problem+json` (RFC 9457)."""


def served_app() -> FastAPI:
    """The app of one worker process of ``synthgov serve --workers N`` (uvicorn's factory): its own
    platform, from the same settings (the parent passes its data folder and database in the
    environment), closed when the worker stops."""
    from synthgov.bootstrap import open_platform
    from synthgov.config import load_settings

    return create_app(open_platform(load_settings()), owns_platform=True)


def create_app(platform: Platform, *, owns_platform: bool = False) -> FastAPI:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # periodic duties (checkpoints) while the server runs
        for handler in platform.registry.handlers:  # heavy backends load now, not on a first request
            warm_up = getattr(handler, "warm_up", None)
            if callable(warm_up):
                warm_up()
        try:
            with platform.run_periodic():
                yield
        finally:
            if owns_platform:
                platform.close()  # a last checkpoint when this worker appended

    app = FastAPI(title="synthgov", version=synthgov.__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.platform = platform
    problems.install(app)
    from synthgov.api.door import Door

    app.add_middleware(Door, platform=platform)  # size, authentication and rate before any body is read
    for manifest in platform.domains:
        if manifest.router:
            app.include_router(resolve(manifest.router))

    @app.get("/healthz", operation_id="health", tags=["meta"])
    def health(platform: PlatformDep) -> dict:
        return {"status": "ok", "version": synthgov.__version__, "demo": platform.profile.demo}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(platform: PlatformDep) -> str:
        banner = (
            '<p style="background:#b00;color:#fff;padding:.5em">DEMO provider profile: '
            "labels carry a demo ContentProducer code. Do not publish this output.</p>"
            if platform.profile.demo
            else ""
        )
        return (
            "<!doctype html><meta charset=utf-8><title>synthgov</title>"
            f"<h1>synthgov {synthgov.__version__}</h1>{banner}"
            f"<p>Provider: {html.escape(platform.profile.name)} "
            f"<code>{html.escape(platform.profile.code or 'not configured')}</code></p>"
            '<p><a href="/docs">API documentation (OpenAPI)</a></p>'
        )

    return app
