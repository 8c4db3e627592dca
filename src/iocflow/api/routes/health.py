"""``GET /healthz``: is this worker up, can it reach its database, are its rate limits shared.

``status`` is ``ok``, or ``degraded`` when either fails. Only an unreachable
database makes it a 503: a worker whose Redis is down still serves, counting
rate limits per process (``rate_limits`` says why), and taking every worker out
of rotation for it would turn a Redis outage into an API outage.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from iocflow import __version__
from iocflow.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness, database reachability and where rate limits are counted (no key needed)")
def healthz(svc: ServicesDep) -> JSONResponse:
    problem = svc.store.ping()
    database = "ok" if problem is None else f"error: {problem}"
    limits_problem = svc.limiter.problem()
    rate_limits = svc.limiter.backend if limits_problem is None else f"degraded: {limits_problem}"
    healthy = problem is None and limits_problem is None
    return JSONResponse({"status": "ok" if healthy else "degraded", "database": database,
                         "rate_limits": rate_limits, "version": __version__},
                        status_code=200 if problem is None else 503)
