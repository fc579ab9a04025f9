"""HTTP: tree heads and proofs of the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from synthgov.api.deps import ActorDep, PlatformDep
from synthgov.audit import service

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
