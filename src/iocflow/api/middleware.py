"""Outermost ASGI layer: request ids, body-size limit, headers on every response, no leaked traces.

Written as plain ASGI (not BaseHTTPMiddleware) so it wraps streaming responses
without buffering them and costs little on the hot feed endpoint.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import orjson

log = logging.getLogger("iocflow.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
#: Where handlers leave headers for this layer to add (rate-limit headers, set by authentication).
EXTRA_HEADERS = "extra_headers"


class BodyTooLarge(Exception):
    """Raised by the request body's ``receive`` past the limit; this layer answers 413."""


class ApiMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int,
                 limit_headers: Callable[[Scope], dict[str, str]] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        #: Rate-limit headers for a response whose handler checked no key (health, schema, 404, 413).
        self.limit_headers = limit_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        rid = incoming if _CLIENT_ID.fullmatch(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"x-request-id", rid.encode())]
                limits = state.get(EXTRA_HEADERS) or await self._limit_headers(scope, rid)
                extra += [(k.lower().encode(), v.encode()) for k, v in limits.items()]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await self._error(send_with_headers, 413, "payload_too_large",
                              f"request body is larger than {self.max_body_bytes} bytes", rid)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._error(send_with_headers, 413, "payload_too_large",
                                  f"request body is larger than {self.max_body_bytes} bytes", rid)
        except Exception:
            log.exception("unhandled error (request %s)", rid)
            if not started:
                await self._error(send_with_headers, 500, "internal_error",
                                  "internal error; quote the request id when reporting it", rid)

    async def _limit_headers(self, scope: Scope, rid: str) -> dict[str, str]:
        """``limit_headers(scope)``, off the event loop (it may wait on Redis); none if it fails."""
        if self.limit_headers is None:
            return {}
        try:
            return await anyio.to_thread.run_sync(self.limit_headers, scope)
        except Exception:
            log.exception("rate-limit headers failed (request %s)", rid)
            return {}

    @staticmethod
    async def _error(send: Send, status: int, code: str, message: str, rid: str) -> None:
        body = orjson.dumps({"error": {"code": code, "message": message, "details": {}, "request_id": rid}})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
