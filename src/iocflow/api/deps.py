"""What routes receive as typed parameters: the store, the caller's key and tier, scope checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from iocflow.api.errors import ApiError
from iocflow.api.limits import RateLimiter, Verdict
from iocflow.api.middleware import EXTRA_HEADERS
from iocflow.api.tiers import Scope, Tier
from iocflow.settings import Settings
from iocflow.store.keys import ApiKey
from iocflow.store.store import Store


@dataclass
class Services:
    """Built once per process by ``create_app`` and shared by every request."""

    settings: Settings
    store: Store
    limiter: RateLimiter
    tiers: dict[str, Tier]


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKey
    tier: Tier

    def has(self, scope: Scope) -> bool:
        return scope.value in self.key.scopes or Scope.ADMIN.value in self.key.scopes

    def need(self, scope: Scope, what: str = "this endpoint") -> None:
        """403 ``insufficient_scope`` unless the key has ``scope``; ``what`` names what needs it."""
        if not self.has(scope):
            raise ApiError(403, "insufficient_scope", f"{what} needs the {scope.value} scope",
                           {"required_scope": scope.value, "your_scopes": list(self.key.scopes)})

    def need_format(self, name: str, what: str) -> None:
        """403 ``format_not_allowed`` unless the key's tier serves format ``name``."""
        if name not in self.tier.formats:
            raise ApiError(403, "format_not_allowed", f"the {self.tier.name} tier does not include {what}",
                           {"tier": self.tier.name, "allowed_formats": sorted(self.tier.formats)})


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def store_of(request: Request) -> Store:
    return services(request).store


StoreDep = Annotated[Store, Depends(store_of)]


def presented_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer``, ``X-API-Key``, ``?api_key=`` or XDR's bare ``Authorization``."""
    auth = request.headers.get("authorization", "").strip()
    scheme, _, rest = auth.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    if auth and not rest:  # XDR sends the key itself; another scheme (Basic ...) is not ours to read
        return auth
    return request.headers.get("x-api-key") or request.query_params.get("api_key") or None


def _limit(request: Request, verdict: Verdict, tier_name: str) -> None:
    request.scope.setdefault("state", {}).setdefault(EXTRA_HEADERS, {}).update(verdict.headers())
    if not verdict.allowed:
        raise ApiError(429, "rate_limit_exceeded", f"rate limit of {verdict.limit} requests per {verdict.window} exceeded",
                       {"limit": verdict.limit, "window": verdict.window, "reset_at": verdict.reset, "tier": tier_name},
                       headers=verdict.headers())


def caller(request: Request, svc: ServicesDep) -> Caller:
    """The authenticated caller, counted against its tier's limits (unknown callers against their address)."""
    secret = presented_key(request)
    key = svc.store.authenticate(secret) if secret else None
    if key is None:
        address = request.client.host if request.client else "unknown"
        _limit(request, svc.limiter.hit(f"anon:{address}", svc.settings.anonymous_per_minute), "anonymous")
        if secret is None:
            raise ApiError(401, "missing_api_key", "an API key is required: Authorization: Bearer sk_live_...")
        raise ApiError(401, "invalid_api_key", "the API key is not valid or has been revoked")
    tier = svc.tiers.get(key.tier)
    if tier is None:
        raise ApiError(403, "insufficient_scope", f"the key's tier {key.tier!r} no longer exists",
                       {"tier": key.tier, "tiers": sorted(svc.tiers)})
    _limit(request, svc.limiter.for_tier(f"key:{key.id}", tier), tier.name)
    return Caller(key, tier)


CallerDep = Annotated[Caller, Depends(caller)]


def require(scope: Scope) -> Callable[[Caller], Caller]:
    """A dependency admitting only callers whose key has ``scope`` (admin has every scope)."""

    def check(who: CallerDep) -> Caller:
        who.need(scope)
        return who

    return check


#: A caller whose key may read the feed (feed, lookup, articles, stats, exports).
ReadIocsDep = Annotated[Caller, Depends(require(Scope.READ_IOCS))]
ExtractDep = Annotated[Caller, Depends(require(Scope.EXTRACT))]
AdminDep = Annotated[Caller, Depends(require(Scope.ADMIN))]
