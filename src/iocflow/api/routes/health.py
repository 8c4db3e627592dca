"""``GET /healthz``: is this worker up and can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from iocflow import __version__
from iocflow.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database reachability (no key needed)")
def healthz(svc: ServicesDep) -> JSONResponse:
    problem = svc.store.ping()
    database = "ok" if problem is None else f"error: {problem}"
    status = 200 if database == "ok" else 503
    return JSONResponse({"status": "ok" if status == 200 else "degraded", "database": database,
                         "rate_limits": svc.limiter.backend, "version": __version__}, status_code=status)
