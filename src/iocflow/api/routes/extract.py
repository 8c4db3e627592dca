"""``POST /api/v1/extract``: the extractor over HTTP (text, JSON or an uploaded HTML/PDF/text file)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from iocflow.api.deps import ExtractDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.api.tiers import Scope
from iocflow.exceptions import IocflowError
from iocflow.extract import extract
from iocflow.extract.engine import parse_types
from iocflow.extract.model import Confidence
from iocflow.ingest import articles
from iocflow.ingest.runner import store_parsed
from iocflow.ingest.service import article_source

router = APIRouter(prefix="/api/v1", tags=["extract"])

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "beacon to hxxps://evil[.]com/gate.php from 8[.]8[.]8[.]8"},
            "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"}}},
                "example": {"text": "C2 at 45.155.205[.]233, dropper sha256 5f2b7e3c9d1a4e6b8c0d2f4a6b8c0e2d4f6a8b0c2e4d6f8a0b2c4e6d8f0a2b4c"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        },
    }
}


async def read_document(request: Request) -> articles.ArticleText:
    """The submitted document as article text, whatever form it came in."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "invalid_parameter", "multipart uploads carry the document in a field named 'file'")
        data = await upload.read()
        try:
            return articles.read_article(data, name=upload.filename or "upload")
        except IocflowError as exc:
            raise ApiError(400, "invalid_input", str(exc)) from None
    body = await request.body()
    if content_type == "application/json":
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise ApiError(400, "invalid_parameter", "the JSON body must be an object with a 'text' string")
        return articles.ArticleText(payload["text"], _str(payload.get("title")), _str(payload.get("url")))
    if content_type in ("", "text/plain", "text/html", "application/pdf", "application/octet-stream"):
        try:
            return articles.read_article(body, name="document.html" if content_type == "text/html" else "")
        except IocflowError as exc:
            raise ApiError(400, "invalid_input", str(exc)) from None
    raise ApiError(415, "unsupported_media_type", f"send text/plain, application/json or multipart/form-data, not {content_type}")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@router.post("/extract", summary="Extract indicators from text or a document; ?store=true also ingests it",
             openapi_extra=OPENAPI_BODY)
async def extract_endpoint(
    request: Request,
    caller: ExtractDep,
    store: StoreDep,
    store_it: Annotated[bool, Query(alias="store", description="Also ingest as an article (needs write:indicators).")] = False,
    types: Annotated[str | None, Query(description="Comma-separated types to look for.")] = None,
    min_confidence: Annotated[Confidence, Query()] = Confidence.MEDIUM,
) -> Response:
    if store_it:
        caller.need(Scope.WRITE_INDICATORS, "store=true")
    try:
        kinds = parse_types(types.split(",")) if types else None
    except IocflowError as exc:
        raise ApiError(400, "invalid_parameter", str(exc), {"parameter": "types"}) from None
    document = await read_document(request)
    found = extract(document.text, types=kinds)
    body: dict[str, Any] = {
        "data": found.to_ioc_finder(min_confidence=min_confidence),
        "indicators": [i.as_dict() for i in found.unique(min_confidence=min_confidence)],
        "stored": None,
    }
    if store_it:
        source = article_source(document.url, name=None if document.url else f"api:{caller.key.name}")
        report = store_parsed(store, source, articles.article_observations(document, now=datetime.now(UTC)))
        body["stored"] = report.as_dict()
    return Response(orjson.dumps(body), media_type="application/json")
