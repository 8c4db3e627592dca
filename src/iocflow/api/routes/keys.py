"""``/api/v1/keys``: create, list and revoke API keys (admin scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from iocflow.api.deps import AdminDep, ServicesDep
from iocflow.api.errors import ApiError
from iocflow.api.tiers import DEFAULT_SCOPES, Scope
from iocflow.store.keys import ApiKey
from iocflow.times import iso_z

router = APIRouter(prefix="/api/v1", tags=["keys"])


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["splunk-forwarder"])
    tier: str = Field(default="free", examples=["pro"])
    scopes: list[Scope] = Field(default_factory=lambda: [Scope(s) for s in DEFAULT_SCOPES])


def key_json(key: ApiKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "tier": key.tier, "scopes": list(key.scopes),
            "created_at": iso_z(key.created_at), "revoked_at": iso_z(key.revoked_at) if key.revoked_at else None}


@router.post("/keys", status_code=201, summary="Create a key; the secret is in this answer only")
def create(body: KeyCreate, _: AdminDep, svc: ServicesDep) -> JSONResponse:
    if body.tier not in svc.tiers:
        raise ApiError(400, "invalid_parameter", f"unknown tier {body.tier!r}",
                       {"parameter": "tier", "valid_tiers": sorted(svc.tiers)})
    key, secret = svc.store.create_key(name=body.name, tier=body.tier, scopes=tuple(s.value for s in body.scopes))
    return JSONResponse(key_json(key) | {"key": secret}, status_code=201)


@router.get("/keys", summary="List keys (never their secrets)")
def index(_: AdminDep, svc: ServicesDep) -> JSONResponse:
    return JSONResponse({"data": [key_json(k) for k in svc.store.keys()]})


@router.delete("/keys/{key_id}", summary="Revoke a key by id or prefix")
def revoke(key_id: str, _: AdminDep, svc: ServicesDep) -> JSONResponse:
    return JSONResponse(key_json(svc.store.revoke_key(key_id)))
