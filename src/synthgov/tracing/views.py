"""HTTP: ``POST /v1/inspections``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from synthgov.api.deps import ActorDep, PlatformDep, read_upload
from synthgov.tracing.service import inspect_content

router = APIRouter(tags=["tracing"])


@router.post("/v1/inspections", operation_id="create_inspection", summary="Read, verify and trace labels")
async def create_inspection(
    platform: PlatformDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="File to inspect")],
    deep: Annotated[bool, Form(description="Also look for watermark and fingerprint when metadata traces")] = False,
) -> dict[str, Any]:
    data = await read_upload(file, platform.settings.max_input_bytes)

    def work() -> dict[str, Any]:
        with platform.unit_of_work(actor) as ctx:
            return inspect_content(ctx, data=data, name=file.filename, deep=deep).to_dict()

    return await run_in_threadpool(work)
