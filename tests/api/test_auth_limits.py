"""Authentication, scopes, rate limits and the headers every response carries (issue section 1)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from iocflow.store.store import Store
from tests.api.conftest import Api, assert_error, bearer

FEED = "/api/v1/iocs"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


# -- presenting a key ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "query"])
def test_key_accepted_three_ways(api: Api, how: str) -> None:
    secret = api.keys["pro"]
    headers = {"bearer": bearer(secret), "x-api-key": {"X-API-Key": secret}, "query": {}}[how]
    params = {"api_key": secret} if how == "query" else {}
    answer = api.client.get(FEED, headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-RateLimit-Limit"] == "1000"


def test_bearer_scheme_is_case_insensitive(api: Api) -> None:
    answer = api.client.get(FEED, headers={"Authorization": f"bearer {api.keys['pro']}"})
    assert answer.status_code == 200


def test_missing_key_is_401(api: Api) -> None:
    details = assert_error(api.get(FEED, key=None), 401, "missing_api_key")
    assert details == {}


@pytest.mark.parametrize("secret", ["sk_live_not-a-real-key", "nonsense", "sk_live_" + "x" * 300])
def test_unknown_key_is_401_invalid(api: Api, secret: str) -> None:
    assert_error(api.client.get(FEED, headers=bearer(secret)), 401, "invalid_api_key")
    assert_error(api.client.get(FEED, headers={"X-API-Key": secret}), 401, "invalid_api_key")


def test_revoked_key_is_refused(api: Api, store: Store) -> None:
    key, secret = store.create_key(name="soon-gone", tier="pro", scopes=("read:iocs",))
    assert api.client.get(FEED, headers=bearer(secret)).status_code == 200
    store.revoke_key(key.id)
    assert_error(api.client.get(FEED, headers=bearer(secret)), 401, "invalid_api_key")


def test_key_secret_is_not_echoed_in_errors(api: Api) -> None:
    secret = "sk_live_" + "a" * 43
    answer = api.client.get(FEED, params={"api_key": secret})
    assert answer.status_code == 401
    assert secret not in answer.text


# -- scopes -------------------------------------------------------------------------------------


def test_missing_scope_is_403_with_details(api: Api) -> None:
    details = assert_error(api.get(FEED, key="extract_only"), 403, "insufficient_scope")
    assert details == {"required_scope": "read:iocs", "your_scopes": ["extract"]}


def test_admin_key_has_every_scope(api: Api) -> None:
    assert api.get(FEED, key="admin").status_code == 200
    assert api.get("/api/v1/stats", key="admin").status_code == 200
    assert api.post("/api/v1/extract", key="admin", content="evil[.]com").status_code == 200
    assert api.post("/api/v1/extract", key="admin", params={"store": "true"}, content="evil[.]com").status_code == 200
    assert api.get("/api/v1/keys", key="admin").status_code == 200


def test_write_scope_is_needed_for_keys_admin_only(api: Api) -> None:
    details = assert_error(api.get("/api/v1/keys", key="writer"), 403, "insufficient_scope")
    assert details["required_scope"] == "admin"
    assert sorted(details["your_scopes"]) == ["extract", "read:iocs", "write:indicators"]


# -- headers on every response ------------------------------------------------------------------


@pytest.mark.parametrize(("key", "params", "status"), [
    ("pro", {}, 200),  # success
    (None, {}, 401),  # no key
    ("extract_only", {}, 403),  # no scope
    ("pro", {"type": "nope"}, 400),  # bad parameter
    ("pro", {"limit": "0"}, 400),  # bad parameter caught by validation
])
def test_rate_and_request_id_headers_on_every_response(api: Api, key: str | None, params: dict[str, str],
                                                       status: int) -> None:
    answer = api.get(FEED, key=key, params=params)
    assert answer.status_code == status, answer.text
    for name in RATE_HEADERS:
        assert int(answer.headers[name]) >= 0, name
    assert len(answer.headers["X-Request-ID"]) >= 8
    if status != 200:
        assert answer.json()["error"]["request_id"] == answer.headers["X-Request-ID"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/healthz", 200), ("GET", "/openapi.json", 200), ("GET", "/no/such/path", 404),
    ("DELETE", "/api/v1/iocs", 405),
])
@pytest.mark.usefixtures("fresh_minute")
def test_responses_that_check_no_key_still_carry_the_headers(api: Api, method: str, path: str, status: int) -> None:
    answer = api.client.request(method, path)
    assert answer.status_code == status
    before = int(answer.headers["X-RateLimit-Remaining"])
    assert answer.headers["X-RateLimit-Limit"] == "60" and int(answer.headers["X-RateLimit-Reset"]) > 0
    assert int(api.client.request(method, path).headers["X-RateLimit-Remaining"]) == before  # shown, not counted
    assert len(answer.headers["X-Request-ID"]) >= 8


def test_another_authorization_scheme_does_not_hide_the_api_key(api: Api) -> None:
    answer = api.client.get(FEED, headers={"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": api.keys["pro"]})
    assert answer.status_code == 200


def test_request_ids_differ(api: Api) -> None:
    ids = {api.get(FEED).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_incoming_request_id_is_echoed(api: Api) -> None:
    answer = api.get(FEED, headers={"X-Request-ID": "trace-1234abcd"})
    assert answer.headers["X-Request-ID"] == "trace-1234abcd"
    error = api.get(FEED, key=None, headers={"X-Request-ID": "trace-5678efgh"})
    assert error.headers["X-Request-ID"] == "trace-5678efgh"
    assert error.json()["error"]["request_id"] == "trace-5678efgh"


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>"])
def test_unsafe_request_id_is_replaced(api: Api, incoming: str) -> None:
    answer = api.get(FEED, headers={"X-Request-ID": incoming})
    assert answer.headers["X-Request-ID"] != incoming
    assert len(answer.headers["X-Request-ID"]) == 32


# -- rate limits ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_minute")
def test_free_tier_eleventh_request_in_a_minute_is_429(api: Api) -> None:
    answers = [api.get(FEED, key="free") for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:10]] == list(range(9, -1, -1))
    assert all(a.headers["X-RateLimit-Limit"] == "10" for a in answers)
    limited = answers[10]
    details = assert_error(limited, 429, "rate_limit_exceeded")
    assert details["limit"] == 10
    assert details["tier"] == "free"
    assert details["reset_at"] == int(limited.headers["X-RateLimit-Reset"])
    # the window's reset, rounded up to a whole second: at most 61 s away for a one-minute window
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert 0 < details["reset_at"] - time.time() <= 61
    assert limited.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.usefixtures("fresh_minute")
def test_rate_limit_counts_errors_too(api: Api) -> None:
    """A request refused for its parameters still spends the key's quota."""
    for _ in range(10):
        api.get(FEED, key="free", params={"type": "nope"})
    assert_error(api.get(FEED, key="free"), 429, "rate_limit_exceeded")


@pytest.mark.usefixtures("fresh_minute")
def test_limits_are_per_key(api: Api, store: Store) -> None:
    for _ in range(10):
        assert api.get(FEED, key="free").status_code == 200
    assert api.get(FEED, key="free").status_code == 429
    _, other_free = store.create_key(name="another-free", tier="free", scopes=("read:iocs",))
    answer = api.client.get(FEED, headers=bearer(other_free))
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Remaining"] == "9"
    assert api.get(FEED, key="pro").status_code == 200


def test_per_day_limit(make_api: Callable[..., Api], store: Store) -> None:
    api = make_api(tiers={"tiny": {"per_minute": 100, "per_day": 3, "max_results": 5, "lookback_days": 1,
                                   "formats": ["json"]}})
    _, secret = store.create_key(name="tiny", tier="tiny", scopes=("read:iocs",))
    answers = [api.client.get(FEED, headers=bearer(secret)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    details = assert_error(answers[3], 429, "rate_limit_exceeded")
    assert details["limit"] == 3
    assert details["window"] == "day"
    assert details["tier"] == "tiny"
    assert int(answers[3].headers["Retry-After"]) > 60  # the day window, not the minute's
    assert answers[3].headers["X-RateLimit-Limit"] == "3"


@pytest.mark.usefixtures("fresh_minute")
def test_custom_tier_settings_apply(make_api: Callable[..., Api], store: Store) -> None:
    api = make_api(tiers={"free": {"per_minute": 2}})
    assert [api.get(FEED, key="free").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.usefixtures("fresh_minute")
def test_unauthenticated_requests_are_limited_by_address(make_api: Callable[..., Api]) -> None:
    api = make_api(anonymous_per_minute=2)
    answers = [api.get(FEED, key=None) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[2].json()["error"]["details"]["tier"] == "anonymous"
    assert api.get(FEED).status_code == 200  # a key is counted on its own


def test_key_of_a_removed_tier_is_refused(api: Api, store: Store) -> None:
    _, secret = store.create_key(name="legacy", tier="enterprise", scopes=("read:iocs",))
    details = assert_error(api.client.get(FEED, headers=bearer(secret)), 403, "insufficient_scope")
    assert details["tier"] == "enterprise"
