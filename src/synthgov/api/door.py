"""Limits at the door: the size limit and authentication are checked before a request body is
read (FastAPI reads and spools a multipart body before any dependency runs), and each API key gets
a request rate. A pure ASGI middleware, so nothing is buffered before its checks pass."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import struct
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from synthgov.errors import SynthgovError
from synthgov.permissions import Actor, ActorKind

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

PUBLIC = ("/healthz", "/docs", "/redoc", "/openapi.json", "/v1/witness/", "/v1/audit/checkpoint")
MULTIPART_OVERHEAD = 1024 * 1024  # boundaries and part headers around the largest accepted file
AUTH = Actor(ActorKind.SYSTEM, "api-auth")
SMALL_BODY = 64 * 1024  # bodies up to this size (JSON requests) need no work slot


class BodyTooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute on average, bursts of as many.

    The buckets live in small files under ``folder`` (one per key, 16 bytes, updated under
    ``flock``), so every worker process of ``synthgov serve --workers N`` draws on the same bucket:
    the limit is per key, not per process. Hand-written: a few lines of ``fcntl`` do what a shared
    store (Redis) would, without one. ``folder=None`` keeps the buckets in this process only."""

    def __init__(self, per_minute: int, folder: Path | None = None) -> None:
        self.rate, self.capacity = per_minute / 60.0, float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()
        self.folder = folder
        if folder is not None:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _step(self, state: tuple[float, float] | None, now: float) -> tuple[float, tuple[float, float]]:
        tokens, then = state if state is not None and state[1] <= now else (self.capacity, now)  # a reboot resets
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens >= 1:
            return 0.0, (tokens - 1, now)
        return (1 - tokens) / self.rate, (tokens, now)

    def take(self, key: str) -> float:
        """0 when allowed; otherwise the seconds until a request would be."""
        now = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of this machine
        if self.folder is None:
            with self.lock:
                wait, self.buckets[key] = self._step(self.buckets.get(key), now)
            return wait
        import fcntl

        name = self.folder / hashlib.sha256(key.encode()).hexdigest()[:24]
        fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 16, 0)
            wait, state = self._step(struct.unpack("<dd", raw) if len(raw) == 16 else None, now)
            os.pwrite(fd, struct.pack("<dd", *state), 0)
        finally:
            os.close(fd)  # releases the lock
        return wait


class WorkSlots:
    """At most ``slots`` uploads are read and worked on at a time in this process; the others wait
    at the door (their bodies unread, so they cost nothing) for up to ``timeout`` seconds, then get a
    503 with ``Retry-After``. Media work is CPU-bound and may take up to about 1 GiB per input, so
    this bounds both the memory and the queue of a server, whatever the number of clients."""

    def __init__(self, slots: int, timeout: float) -> None:
        self.slots, self.timeout = slots, timeout
        # one semaphore per event loop: a server has one; test clients may start a loop per request
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return self._semaphores[loop]

    async def acquire(self) -> bool:
        try:
            await asyncio.wait_for(self._semaphore().acquire(), self.timeout)
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._semaphore().release()


def is_upload(method: str, headers: dict[bytes, bytes]) -> bool:
    """A request whose body is worth a work slot: announced over ``SMALL_BODY`` bytes, or streamed."""
    if method not in ("POST", "PUT", "PATCH"):
        return False
    length = headers.get(b"content-length")
    if length is None:
        return b"chunked" in headers.get(b"transfer-encoding", b"").lower()
    return int(length) > SMALL_BODY


def _token(headers: dict[bytes, bytes]) -> str:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get(b"x-api-key", b"").decode("latin-1").strip()


class Door:
    def __init__(self, app: Any, platform: Platform) -> None:
        self.app, self.platform = app, platform
        self.limit = platform.settings.max_input_bytes + MULTIPART_OVERHEAD
        cfg = platform.settings
        self.limiter = RateLimiter(cfg.api_rate_limit, cfg.data_dir / ".rate") if cfg.api_rate_limit else None
        self.slots = WorkSlots(cfg.api_concurrent_work, cfg.api_queue_seconds)

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
        if not is_upload(scope.get("method", "GET"), headers):
            await self._bounded(scope, receive, send)
            return
        if not await self.slots.acquire():
            await _problem(send, 503, "Busy", f"{self.slots.slots} uploads are being worked on and none finished "
                           f"within {self.slots.timeout:g} s; nothing was read, retry later", "busy",
                           retry_after=max(1, round(self.slots.timeout / 4)))
            return
        try:
            await self._bounded(scope, receive, send)
        finally:
            self.slots.release()

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


__all__ = ["Door", "RateLimiter", "WorkSlots"]
