"""Limits at the door: the size limit and authentication are checked before a request body is
read (FastAPI reads and spools a multipart body before any dependency runs), and each API key gets
a request rate. A pure ASGI middleware, so nothing is buffered before its checks pass."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from synthgov.errors import SynthgovError
from synthgov.permissions import Actor, ActorKind

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

PUBLIC = ("/healthz", "/docs", "/redoc", "/openapi.json", "/v1/witness/", "/v1/audit/checkpoint")
MULTIPART_OVERHEAD = 1024 * 1024  # boundaries and part headers around the largest accepted file
AUTH = Actor(ActorKind.SYSTEM, "api-auth")


class BodyTooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute on average, bursts of as many."""

    def __init__(self, per_minute: int) -> None:
        self.rate, self.capacity = per_minute / 60.0, float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed; otherwise the seconds until a request would be."""
        now = time.monotonic()
        with self.lock:
            tokens, then = self.buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def _token(headers: dict[bytes, bytes]) -> str:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get(b"x-api-key", b"").decode("latin-1").strip()


class Door:
    def __init__(self, app: Any, platform: Platform) -> None:
        self.app, self.platform = app, platform
        self.limit = platform.settings.max_input_bytes + MULTIPART_OVERHEAD
        per_minute = platform.settings.api_rate_limit
        self.limiter = RateLimiter(per_minute) if per_minute else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await _problem(send, 400, "Bad request", "Content-Length is not a number", "bad-request")
                return
            if int(length) > self.limit:
                await _problem(send, 413, "Input too large", f"request body of {int(length)} bytes is over the "
                               f"{self.limit}-byte limit; nothing was read", "too-large")
                return
        path = scope.get("path", "")
        if path.startswith("/v1/") and not path.startswith(PUBLIC):
            token = _token(headers)
            if not token:
                await _problem(send, 401, "Authentication required", "send an API key as 'Authorization: Bearer "
                               "<key>' (create one: synthgov apikey create)", "unauthenticated")
                return
            try:
                actor = await run_in_threadpool(self._authenticate, token)
            except SynthgovError as exc:
                await _problem(send, exc.status, exc.title, exc.message, exc.code)
                return
            if self.limiter is not None:
                wait = self.limiter.take(actor.id)
                if wait:
                    await _problem(send, 429, "Too many requests", f"API key {actor.id} is over its rate of "
                                   f"{self.platform.settings.api_rate_limit} requests a minute; retry in "
                                   f"{wait:.1f} s", "rate-limited", retry_after=max(1, round(wait)))
                    return
            scope.setdefault("state", {})["actor"] = actor
        await self._bounded(scope, receive, send)

    def _authenticate(self, token: str) -> Actor:
        from synthgov.identity.service import authenticate

        with self.platform.unit_of_work(AUTH) as ctx:
            return authenticate(ctx, token=token)

    async def _bounded(self, scope: dict, receive: Any, send: Any) -> None:
        """Count the body as it streams (chunked uploads have no Content-Length) and stop at the
        limit: the app sees the client go away (FastAPI then answers 400), and that answer is
        replaced by the 413 it deserves."""
        seen = 0
        over = False
        replaced = False

        async def counted() -> dict:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: dict) -> None:
            nonlocal replaced
            if over:
                if not replaced and message.get("type") == "http.response.start":
                    replaced = True
                    await _problem(send, 413, "Input too large", f"request body is over the {self.limit}-byte "
                                   "limit; it was not kept", "too-large")
                return
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:  # pragma: no cover - kept for apps that raise it themselves
            over = True
        if over and not replaced:  # the app answered nothing to a client it saw leave
            await _problem(send, 413, "Input too large", f"request body is over the {self.limit}-byte limit",
                           "too-large")


async def _problem(send: Any, status: int, title: str, detail: str, code: str, retry_after: int | None = None) -> None:
    body = json.dumps({"type": f"https://synthgov.dev/problems/{code}", "title": title, "status": status,
                       "detail": detail}).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["Door", "RateLimiter"]
