"""Runtime settings, read once from the environment (``IOCFLOW_*``) and passed down.

One machine needs none of them: the store defaults to SQLite under ``./data``.
Scaling out is settings only: point ``IOCFLOW_DATABASE_URL`` at PostgreSQL and
``IOCFLOW_REDIS_URL`` at Redis, and run as many API workers as needed. The
extractor never reads settings; layers that need one get it as an argument.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/iocflow.db"


class Settings(BaseSettings):
    """Everything an operator may configure, with the defaults of a one-machine install."""

    model_config = SettingsConfigDict(env_prefix="IOCFLOW_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store.")
    redis_url: str | None = Field(default=None, description="Redis URL for limits shared across API workers.")
    redis_prefix: str = Field(default="iocflow", description="Key prefix in Redis (one per deployment).")
    redis_timeout: float = Field(
        default=0.5, gt=0, description="Seconds a Redis connect or command may take; then limits count per process.",
    )
    redis_retry_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between tries to reach Redis again while limits count per process.",
    )
    http_timeout: float = Field(default=30.0, gt=0, description="Seconds before a feed download gives up.")
    http_retries: int = Field(default=3, ge=0, description="Retries (with backoff) of a failed feed download.")
    user_agent: str | None = Field(default=None, description="User-Agent of downloads (default iocflow/<version>).")
    http_headers: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='Extra headers per host and its subdomains, e.g. {"abuse.ch": {"Auth-Key": "..."}}.',
    )
    tiers: dict[str, dict[str, object]] = Field(
        default_factory=dict,
        description="Tier overrides, e.g. {\"free\": {\"per_minute\": 30}} (see iocflow.api.tiers).",
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Largest request body the API accepts.")
    extract_timeout_seconds: float = Field(
        default=30.0, gt=0,
        description="Seconds POST /api/v1/extract may take to read and extract one document (then 503), "
                    "and may wait for a free extraction worker.",
    )
    extract_max_chars: int = Field(
        default=10 * 1024 * 1024, gt=0,
        description="Most characters of text POST /api/v1/extract reads from one document (then 413).",
    )
    extract_workers: int = Field(default=2, ge=1, description="Extraction worker processes per API process.")
    anonymous_per_minute: int = Field(default=60, gt=0, description="Requests/min per client IP without a key.")
    ttl_days: dict[str, int | None] = Field(
        default_factory=dict,
        description="Per-type expiry overrides in days, e.g. {\"ipv4\": 14}; null means never.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (cached: the environment is read once)."""
    return Settings()
