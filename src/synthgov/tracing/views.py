"""HTTP: ``POST /v1/inspections`` and ``GET /v1/records/{produce_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from synthgov.api.deps import ActorDep, PlatformDep, read_upload
from synthgov.labeling.schemas import RecordOut
from synthgov.tracing.service import get_record, inspect_content

router = APIRouter(tags=["tracing"])


@router.post("/v1/inspections", operation_id="create_inspection", summary="Read, verify and trace labels")
async def create_inspection(
    platform: PlatformDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="File to inspect")],
    deep: Annotated[bool, Form(description="Also look for watermark and fingerprint when metadata traces")] = False,
) -> dict[str, Any]:
    data = await read_upload(file, platform.settings.max_input_bytes)

    def work():
        with platform.unit_of_work(actor) as ctx:
            return inspect_content(ctx, data=data, name=file.filename, deep=deep).to_dict()

    return await run_in_threadpool(work)


@router.get("/v1/records/{produce_id}", operation_id="get_record", summary="A generation record by ProduceID")
def read_record(platform: PlatformDep, actor: ActorDep, produce_id: str) -> RecordOut:
    with platform.unit_of_work(actor) as ctx:
        return RecordOut.model_validate(get_record(ctx, produce_id=produce_id))
