"""Indicators pushed in Cortex XDR's ``insert_jsons`` request shape.

Tools that already push IOCs to Cortex XDR (``POST /public_api/v1/indicators/
insert_jsons``) can push the same body to iocflow::

    {"request_data": [{"indicator": "evil.com", "type": "DOMAIN_NAME", "severity": "HIGH",
                       "expiration_date": 1794395200000, "comment": "...", "reputation": "BAD",
                       "reliability": "A", "vendors": [{"vendor_name": "...", "reputation": "BAD",
                       "reliability": "A"}], "class": "Malware"}],
     "validate": true}

``type`` is HASH (MD5, SHA-1 or SHA-256, told apart by the value), IP (v4 or
v6), DOMAIN_NAME or FILENAME. ``expiration_date`` is milliseconds since the
epoch, ``"Never"``, or null/absent for the type's default. Each vendor becomes
a tag ``vendor:<name>``; the item's reliability is the best of its own and its
vendors'. The reply mirrors XDR's: ``{"reply": {"success": bool,
"validation_errors": [{"indicator", "index", "error"}]}}``. With ``validate``
true, a batch with any invalid item stores nothing and returns every error;
with ``validate`` false, the valid items are stored and the invalid ones are
listed, as XDR skips them. An item holding a NUL character in any of its
strings is invalid (PostgreSQL stores none; SQLite would have).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iocflow.ingest.report import IngestReport, Parsed
from iocflow.ingest.runner import store_parsed
from iocflow.ingest.values import identify
from iocflow.store import policy
from iocflow.store.nul import nul_at
from iocflow.store.records import NEVER, Expiry, Observation, Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity, SourceCategory, SourceKind

SOURCE_NAME = "cortex-xdr-push"
MAX_ITEMS = 10_000

_TYPES: dict[str, frozenset[IndicatorType]] = {
    "HASH": frozenset({IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256}),
    "IP": frozenset({IndicatorType.IPV4, IndicatorType.IPV6}),
    "DOMAIN_NAME": frozenset({IndicatorType.DOMAIN}),
    "FILENAME": frozenset({IndicatorType.FILENAME}),
}


class XdrRequestError(ValueError):
    """The body is not an insert_jsons request at all (as opposed to one bad item)."""


@dataclass
class XdrReply:
    success: bool
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    report: IngestReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"reply": {"success": self.success, "validation_errors": self.validation_errors}}


def push_source(name: str = SOURCE_NAME) -> Source:
    return Source(name, SourceKind.PUSH, SourceCategory.THREAT_INTEL, Reliability.C)


def parse_request(body: object) -> tuple[Parsed, list[dict[str, Any]], bool]:
    """The request's items as observations, its per-item errors, and its ``validate`` flag."""
    if not isinstance(body, Mapping):
        raise XdrRequestError("the body must be a JSON object with request_data")
    items = body.get("request_data")
    if not isinstance(items, list):
        raise XdrRequestError("request_data must be a list of indicators")
    if len(items) > MAX_ITEMS:
        raise XdrRequestError(f"request_data has {len(items)} items; at most {MAX_ITEMS} per request")
    validate = body.get("validate", False)
    if not isinstance(validate, bool):
        raise XdrRequestError("validate must be true or false")
    parsed = Parsed(rows_read=len(items))
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            parsed.add(_observation(item), line=index)
        except ValueError as exc:
            value = item.get("indicator") if isinstance(item, Mapping) else None
            errors.append({"indicator": value, "index": index, "error": str(exc)})
            parsed.reject(str(exc), line=index, value=value if isinstance(value, str) else None)
    return parsed, errors, validate


def insert_jsons(store: Store, body: object, *, source: Source | None = None, now: datetime | None = None) -> XdrReply:
    """Store an insert_jsons request; see the module docstring for the all-or-nothing rule of ``validate``."""
    parsed, errors, validate = parse_request(body)
    if validate and errors:
        return XdrReply(False, errors)
    report = store_parsed(store, source or push_source(), parsed, now=now)
    return XdrReply(not errors, errors, report)


def _observation(item: object) -> Observation:
    if not isinstance(item, Mapping):
        raise ValueError("each item must be an object")
    if (where := nul_at(item)) is not None:
        raise ValueError(f"{where} must not contain a NUL character")
    value = item.get("indicator")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("indicator is required")
    xdr_type = str(item.get("type", "")).upper()
    if xdr_type in _TYPES:
        kind, canonical = identify(value, _TYPES[xdr_type])
    else:
        raise ValueError(f"type must be one of HASH, IP, DOMAIN_NAME, FILENAME, got {item.get('type')!r}")
    vendors = item.get("vendors") or []
    if not isinstance(vendors, list) or not all(isinstance(v, Mapping) for v in vendors):
        raise ValueError("vendors must be a list of objects")
    reliabilities = [_enum(Reliability, item.get("reliability"), "reliability", upper=True)]
    reliabilities += [_enum(Reliability, v.get("reliability"), "vendor reliability", upper=True) for v in vendors]
    rated = [r for r in reliabilities if r is not None]
    reputations = [_enum(Reputation, item.get("reputation"), "reputation")]
    reputations += [_enum(Reputation, v.get("reputation"), "vendor reputation") for v in vendors]
    known = [r for r in reputations if r is not None]
    comment = item.get("comment")
    klass = item.get("class")
    return Observation(
        kind,
        canonical,
        severity=_enum(Severity, item.get("severity"), "severity"),
        reputation=max(known, key=lambda r: r.rank) if known else None,
        reliability=min(rated, key=policy.reliability_order) if rated else None,
        expiry=_expiry(item.get("expiration_date")),
        comment=str(comment) if comment else None,
        indicator_class=str(klass)[:64] if klass else None,
        tags=tuple(f"vendor:{v['vendor_name']}" for v in vendors if v.get("vendor_name")),
    )


def _enum(enum_type: type[Any], raw: object, name: str, *, upper: bool = False) -> Any:
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    text = text.upper() if upper else text.lower()
    try:
        return enum_type(text)
    except ValueError:
        allowed = ", ".join(e.value.upper() for e in enum_type)
        raise ValueError(f"{name} must be one of {allowed}, got {raw!r}") from None


def _expiry(raw: object) -> Expiry:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip().lower() == "never":
        return NEVER
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"expiration_date must be milliseconds since the epoch, \"Never\" or null, got {raw!r}")
    try:
        return datetime.fromtimestamp(raw / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"expiration_date {raw!r} is out of range") from None

