"""``GET /healthz``: is this worker up and can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from iocflow import __version__
from iocflow.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database reachability (no key needed)")
def healthz(svc: ServicesDep) -> JSONResponse:
    try:
        with svc.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", reported, not raised
        database = f"error: {type(exc).__name__}"
    status = 200 if database == "ok" else 503
    return JSONResponse({"status": "ok" if status == 200 else "degraded", "database": database,
                         "rate_limits": svc.limiter.backend, "version": __version__}, status_code=status)
