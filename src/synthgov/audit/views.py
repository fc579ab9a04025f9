"""HTTP: tree heads and proofs of the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from synthgov.api.deps import ActorDep, PlatformDep
from synthgov.audit import service
from synthgov.errors import NotFound, SynthgovError
from synthgov.permissions import Actor, ActorKind

WITNESS = Actor(ActorKind.SYSTEM, "witness")

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/tree-head", operation_id="get_tree_head", summary="The signed tree head")
def get_tree_head(
    platform: PlatformDep, actor: ActorDep, size: Annotated[int | None, Query(ge=0)] = None
) -> dict[str, Any]:
    with platform.unit_of_work(actor) as ctx:
        return service.tree_head(ctx, size=size).to_dict()


@router.get("/v1/audit/proofs/inclusion", operation_id="get_inclusion_proof", summary="Inclusion proof of an entry")
def get_inclusion_proof(
    platform: PlatformDep,
    actor: ActorDep,
    index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    with platform.unit_of_work(actor) as ctx:
        return service.prove_inclusion(ctx, index=index, size=tree_size)


@router.get("/v1/audit/proofs/consistency", operation_id="get_consistency_proof", summary="Consistency proof")
def get_consistency_proof(
    platform: PlatformDep,
    actor: ActorDep,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    with platform.unit_of_work(actor) as ctx:
        return service.prove_consistency(ctx, first=first, second=second)


@router.get("/v1/audit/checkpoint", operation_id="get_checkpoint", summary="The latest signed checkpoint",
            response_class=PlainTextResponse)
def get_checkpoint(platform: PlatformDep) -> PlainTextResponse:
    """The newest checkpoint of the checkpoint file (C2SP signed note, with cosignatures). Public:
    it reveals the log's size and root only."""
    from synthgov.audit.checkpoints import CheckpointFile
    from synthgov.audit.policy import AuditPolicy

    latest = CheckpointFile(platform.policy(AuditPolicy).checkpoint_file).read().latest
    if latest is None:
        raise NotFound("no checkpoint has been made yet")
    return PlainTextResponse(str(latest.note), media_type="text/plain; charset=utf-8")


@router.post("/v1/witness/add-checkpoint", operation_id="witness_add_checkpoint", tags=["witness"],
             summary="Cosign a checkpoint (c2sp.org/tlog-witness)", response_class=PlainTextResponse)
async def witness_add_checkpoint(request: Request, platform: PlatformDep) -> PlainTextResponse:
    from synthgov.audit import witness

    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > witness.MAX_BODY:
            return PlainTextResponse("request body too large\n", status_code=413)
    try:
        with platform.unit_of_work(WITNESS) as ctx:
            line = witness.add_checkpoint(ctx, body=bytes(body))
    except witness.SizeConflict as exc:
        return PlainTextResponse(f"{exc.size}\n", status_code=409, media_type="text/x.tlog.size")
    except SynthgovError as exc:
        return PlainTextResponse(f"{exc.message}\n", status_code=exc.status)
    return PlainTextResponse(line, media_type="text/plain; charset=utf-8")


@router.get("/v1/witness/checkpoint", operation_id="witness_latest", tags=["witness"],
            summary="The latest checkpoint this witness cosigned for a log", response_class=PlainTextResponse)
def witness_latest(platform: PlatformDep, origin: Annotated[str, Query(max_length=256)]) -> PlainTextResponse:
    from synthgov.audit import witness

    with platform.unit_of_work(WITNESS) as ctx:
        return PlainTextResponse(witness.latest(ctx, origin=origin), media_type="text/plain; charset=utf-8")
