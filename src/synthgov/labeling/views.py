"""HTTP: ``POST /v1/labels``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from synthgov.api.deps import ActorDep, PlatformDep, read_upload
from synthgov.labeling.service import LabelOutcome, label_content

router = APIRouter(tags=["labeling"])


@router.post(
    "/v1/labels",
    operation_id="create_label",
    summary="Label a generated file",
    response_class=Response,
    responses={
        200: {
            "description": "The labeled file. Headers carry the record id and ProduceID.",
            "content": {"image/*": {}},
        }
    },
)
async def create_label(
    platform: PlatformDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="Generated content to label")],
    user: Annotated[str | None, Form(max_length=256, description="Your reference for the end user")] = None,
    visible: Annotated[bool, Form(description="Draw the visible label (GB 45438 ch. 5)")] = True,
    watermark: Annotated[bool | None, Form(description="Embed the invisible watermark (default: setting)")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255, description="Makes retries safe: the same key "
                                                  "and request within 24 h get the same record and file back")]
    = None,
) -> Response:
    data = await read_upload(file, platform.settings.max_input_bytes)

    def work() -> LabelOutcome:
        with platform.unit_of_work(actor) as ctx:
            return label_content(ctx, data=data, filename=file.filename, user=user, visible=visible,
                                 watermark=watermark, idempotency_key=idempotency_key)

    def work_once() -> LabelOutcome:
        from sqlalchemy.exc import IntegrityError

        try:
            return work()
        except IntegrityError:  # a twin with the same key committed first: answer with its record
            if idempotency_key is None:
                raise
            return work()

    outcome = await run_in_threadpool(work_once)  # committed before the response is built
    ext = outcome.media.extensions[0]
    return Response(
        outcome.data,
        media_type=outcome.media.media_type,
        headers={
            "X-Synthgov-Record-Id": outcome.record.id,
            "X-Synthgov-Produce-Id": outcome.record.produce_id,
            "Content-Disposition": f'attachment; filename="{outcome.record.produce_id}{ext}"',
            **({"Idempotent-Replayed": "true"} if outcome.replayed else {}),
        },
    )
