"""Secrets never reach a log line: API keys, Authorization values, secret query parameters, URL passwords.

``RedactSecrets`` is a logging filter that rewrites a record's message, its
arguments and its traceback text through ``redact``. ``install()`` puts it on
the loggers that write request data (uvicorn's access and error logs, the
API's own); ``log_config()`` is uvicorn's logging configuration with the
filter on every handler, which ``iocflow serve`` uses. What is redacted:

- the value of a secret query parameter (``api_key``, ``token``, ...), however
  its name is percent-encoded: ``?api_key=[REDACTED]&limit=5``;
- an ``Authorization`` or ``X-API-Key`` value, written as a header, a dict or
  ASGI's byte pairs, keeping the scheme: ``Authorization: Bearer [REDACTED]``;
- anything shaped like an iocflow key: ``sk_live_[REDACTED]``;
- the password of a URL: ``redis://:[REDACTED]@host:6379/0``.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[REDACTED]"
#: Query (and ``name=value``) parameters whose value is a secret, compared lower-cased after decoding.
SECRET_PARAMETERS = frozenset({"api_key", "apikey", "access_token", "token", "password", "secret", "client_secret"})
#: Loggers that may write request data; ``install`` filters their records.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "iocflow.api")

_PARAMETER = re.compile(r"(?:(?<=[?&;\s])|^)([^=&;\s\"'#?]+)=([^&;\s\"'#]*)")
_HEADER = re.compile(
    r"(?i)(authorization|x-api-key)"
    r"((?>['\"]?\s*(?:[:=]|,(?=\s*(?-i:b)?['\"]))\s*(?:(?-i:b)?['\"])?))"  # "name: v", "'name': 'v'", "(b'name', b'v')"
    r"((?:bearer|basic|token)\s+)?+"
    r"(?!\[REDACTED\])([^\s'\",)}\]]+)"
)
_KEY = re.compile(r"sk_live_[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")


def redact(text: str) -> str:
    """``text`` with every secret it carries replaced by ``[REDACTED]``."""
    text = _PARAMETER.sub(_parameter, text)
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{REDACTED}", text)
    text = _KEY.sub("sk_live_" + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: f"{m[1]}{REDACTED}@", text)


def _parameter(match: re.Match[str]) -> str:
    if unquote_plus(match[1]).lower() in SECRET_PARAMETERS:
        return f"{match[1]}={REDACTED}"
    return match[0]


class RedactSecrets(logging.Filter):
    """Rewrites a record so that no secret is in its message, arguments or traceback; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted_arg(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            clean = redact(text)
            if clean != text:  # the formatted, redacted traceback replaces the exception itself
                record.exc_text, record.exc_info = clean, None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redacted_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return redact(arg)
    if arg is None or isinstance(arg, (int, float)):
        return arg
    text = str(arg)
    clean = redact(text)
    return arg if clean == text else clean


def install() -> None:
    """Put ``RedactSecrets`` on each of ``LOGGERS`` (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``RedactSecrets`` on every handler, and iocflow's INFO lines shown."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "redact_secrets"]
    config["loggers"]["iocflow"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
