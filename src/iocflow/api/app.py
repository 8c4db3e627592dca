"""Building the application: one ``Services`` per process, routers, the error envelope, middleware.

``create_app()`` reads the settings; tests pass their own settings and store.
Workers are stateless: everything shared lives in the database and, for rate
limits across workers, in Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from iocflow import __version__
from iocflow.api import errors, logs
from iocflow.api.deps import Services
from iocflow.api.limits import RateLimiter
from iocflow.api.middleware import ApiMiddleware
from iocflow.api.routes import articles, export, extract, health, iocs, keys, lookup, push, stats, taxii
from iocflow.api.tiers import tiers
from iocflow.settings import Settings, get_settings
from iocflow.store.store import Store

DESCRIPTION = """\
iocflow's REST API: the IOC feed SIEM/EDR/firewall pipelines pull (`/api/v1/iocs`),
lookups with risk score and hunting queries, extraction, indicator pushes in Cortex XDR's
shape, and key management. Authenticate with `Authorization: Bearer sk_live_...`,
`X-API-Key`, or `?api_key=`. Errors are `{"error": {"code", "message", "details", "request_id"}}`.
"""


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               limiter: RateLimiter | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = store or Store.from_settings(settings)
    limiter = limiter or RateLimiter(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout,
                                     retry_seconds=settings.redis_retry_seconds)
    logs.install()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="iocflow", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.services = Services(settings, store, limiter, tiers(settings.tiers))  # type: ignore[arg-type]
    errors.install(app)
    for module in (health, iocs, lookup, extract, push, keys, articles, stats, export, taxii):
        app.include_router(module.router)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    def anonymous_window(scope: dict) -> dict[str, str]:
        client = scope.get("client") or ("unknown", 0)
        return limiter.peek(f"anon:{client[0]}", settings.anonymous_per_minute).headers()

    app.add_middleware(ApiMiddleware, max_body_bytes=settings.max_body_bytes, limit_headers=anonymous_window)
    return app
