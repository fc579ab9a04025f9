"""Dependencies shared by the views: the platform, the authenticated actor, bounded uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile

from synthgov.bootstrap import Platform
from synthgov.errors import TooLarge, Unauthenticated
from synthgov.identity.service import authenticate
from synthgov.permissions import Actor, ActorKind

CHUNK = 1024 * 1024


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_actor(request: Request, platform: PlatformDep) -> Actor:
    known = getattr(request.state, "actor", None)  # authenticated at the door, before the body was read
    if isinstance(known, Actor):
        return known
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    if not token:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>' (create one: synthgov apikey create)")
    with platform.unit_of_work(Actor(ActorKind.SYSTEM, "api-auth")) as ctx:
        return authenticate(ctx, token=token)


ActorDep = Annotated[Actor, Depends(get_actor)]


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """Read an upload, refusing it as soon as it passes ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"upload is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
