"""HTTP: ``GET /v1/records/{produce_id}``."""

from __future__ import annotations

from fastapi import APIRouter

from synthgov.api.deps import ActorDep, PlatformDep
from synthgov.records import service
from synthgov.records.schemas import RecordOut

router = APIRouter(tags=["records"])


@router.get("/v1/records/{produce_id}", operation_id="get_record", summary="A generation record by ProduceID")
def read_record(platform: PlatformDep, actor: ActorDep, produce_id: str) -> RecordOut:
    with platform.unit_of_work(actor) as ctx:
        return service.get(ctx, produce_id=produce_id)
