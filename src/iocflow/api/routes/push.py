"""Endpoints in other products' shapes: D3 SOAR's ``IOCsExtraction`` command and Cortex XDR's ``insert_jsons``.

Integrations written for those products point at iocflow with a URL change.
Both keep their product's own error shapes rather than iocflow's envelope,
because the callers parse those.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from iocflow.api.deps import caller, services
from iocflow.api.errors import ApiError, request_id
from iocflow.api.tiers import Scope
from iocflow.api.routes.extract import Job, Upload, run_extraction
from iocflow.extract.model import Confidence
from iocflow.ingest.articles import ArticleText
from iocflow.ingest.xdr import XdrRequestError, insert_jsons, push_source

router = APIRouter(tags=["integrations"])

SOAR_BAD_BODY = "The body of the request must be a valid JSON object"


def _soar(status: int, error: str, data: Any = "", headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": error, "returnData": data}), status_code=status,
                    media_type="application/json", headers=headers)


@router.post("/Command/IOCsExtraction", summary="SOAR command shape: extract IOCs from 'Raw Text'",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"example": {
                 "Username": "analyst", "Site": "SOC", "CommandParams": {"Raw Text": "8[.]8[.]8[.]8 and evil[.]com"}}}}}})
async def soar_extract(request: Request) -> Response:
    """``{"error": "", "returnData": {ioc-finder keys}}``; errors as ``{"error": message, "returnData": ""}``."""
    try:
        who = caller(request, services(request))
        if not who.has(Scope.EXTRACT):
            return _soar(403, "The API key lacks the extract scope")
    except ApiError as exc:
        return _soar(exc.status, exc.message, headers=exc.headers)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _soar(400, SOAR_BAD_BODY)
    params = body.get("CommandParams") if isinstance(body, dict) else None
    text = params.get("Raw Text") if isinstance(params, dict) else None
    if not isinstance(text, str):
        return _soar(400, SOAR_BAD_BODY if not isinstance(body, dict) else "CommandParams.\"Raw Text\" must be a string")
    settings = services(request).settings
    job = Job(Upload(ArticleText(text)), None, Confidence.MEDIUM, settings.extract_max_chars, None)
    try:  # off the event loop, within the same time and size budgets as /api/v1/extract
        outcome = await run_extraction(job, settings)
    except ApiError as exc:
        return _soar(exc.status, exc.message, headers=exc.headers)
    except Exception:  # noqa: BLE001 - the command's own 500 shape, with the id to find the trace
        return _soar(500, f"Internal error (request {request_id(request)})")
    assert outcome.body is not None
    return _soar(200, "", outcome.body["data"])


@router.post("/public_api/v1/indicators/insert_jsons", summary="Cortex XDR shape: push indicators",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"example": {
                 "request_data": [{"indicator": "evil.com", "type": "DOMAIN_NAME", "severity": "HIGH",
                                   "reputation": "BAD", "reliability": "A", "expiration_date": None,
                                   "comment": "phishing", "vendors": [], "class": "Malware"}],
                 "validate": True}}}}})
async def xdr_insert_jsons(request: Request) -> Response:
    """XDR's reply shape; auth by ``Authorization`` (the key) and ``x-xdr-auth-id`` (accepted, not needed)."""
    who = caller(request, services(request))
    who.need(Scope.WRITE_INDICATORS)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    try:
        reply = insert_jsons(services(request).store, body, source=push_source(f"xdr-push:{who.key.name}"),
                             now=datetime.now(UTC))
    except XdrRequestError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    return Response(orjson.dumps(reply.as_dict()), media_type="application/json")
