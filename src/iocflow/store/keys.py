"""API keys: created with a secret shown once, kept as a SHA-256, checked in constant time.

A key is ``sk_live_`` + 32 random bytes (URL-safe base64). Its 256 bits of
entropy make a fast hash safe (nothing to brute-force), so a lookup is one
indexed query on the hash; the final comparison is ``hmac.compare_digest``.

No name, id or prefix holds a NUL character (PostgreSQL cannot store or
compare one): a name with one is refused, an id or prefix with one names no key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from iocflow.exceptions import InvalidParameter, NotFound, StoreError
from iocflow.store.models import ApiKeyRow
from iocflow.store.nul import NUL
from iocflow.store.writer import utcnow

KEY_PREFIX = "sk_live_"
_SHOWN = len(KEY_PREFIX) + 4


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    tier: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, row.tier, tuple(row.scopes), row.created_at, row.revoked_at)


def create_key(session: Session, *, name: str, tier: str, scopes: tuple[str, ...]) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists outside the caller)."""
    if not name.strip():
        raise StoreError("a key needs a name")
    if NUL in name:
        raise InvalidParameter("name", "a key name must not contain a NUL character")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {"id": str(uuid.uuid4()), "name": name.strip(), "prefix": secret[:_SHOWN], "key_hash": _hash(secret),
           "tier": tier, "scopes": sorted(set(scopes)), "created_at": utcnow(), "revoked_at": None}
    session.execute(insert(ApiKeyRow), [row])
    return ApiKey(row["id"], row["name"], row["prefix"], tier, tuple(row["scopes"]), row["created_at"]), secret


def list_keys(session: Session) -> list[ApiKey]:
    return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def revoke_key(session: Session, key: str) -> ApiKey:
    """Revoke by id or by the shown prefix; a revoked key stops working at once."""
    if NUL in key:
        raise NotFound(f"no API key {key!r}")
    rows = session.scalars(select(ApiKeyRow).where(or_(ApiKeyRow.id == key, ApiKeyRow.prefix == key))).all()
    if not rows:
        raise NotFound(f"no API key {key!r}")
    if len(rows) > 1:
        raise StoreError(f"{key!r} names {len(rows)} keys: use the id")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(revoked_at=row.revoked_at))
    return _key(row)


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The active key whose secret this is, else ``None``."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 128:
        return None
    digest = _hash(secret)
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest))
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        return None
    return _key(row)
