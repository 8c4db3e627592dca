"""Property-based API testing from /openapi.json: no generated request may produce a server error.

Schemathesis builds requests (valid and invalid) for every operation in the
schema and sends them through the ASGI app, authenticated with an admin key of
the pro tier, over a store holding the sample feeds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from iocflow.api.app import create_app
from iocflow.ingest.service import ingest_article, ingest_feed
from iocflow.settings import Settings
from iocflow.store.store import Store

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"
_folder = tempfile.mkdtemp(prefix="iocflow-schemathesis-")
_store = Store(f"sqlite:///{_folder}/api.db")
_store.upgrade()
ingest_feed(_store, str(FIXTURES / "threatfox_recent.json"))
ingest_article(_store, str(FIXTURES / "article_blog.html"))
_, SECRET = _store.create_key(name="schemathesis", tier="pro",
                       scopes=("read:iocs", "read:stix", "extract", "write:indicators", "admin"))
# A tier without practical limits, so thousands of generated calls are not answered 429.
_app = create_app(Settings(database_url=_store.url, tiers={"pro": {"per_minute": 10**9, "per_day": 10**9}}),
                  store=_store)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    if case.path == "/api/v1/keys/{key_id}" and case.method == "DELETE":
        case.path_parameters = {"key_id": "not-a-real-key"}  # never revoke the key the test runs with
    case.call_and_validate(headers={"Authorization": f"Bearer {SECRET}"}, checks=[not_a_server_error])
