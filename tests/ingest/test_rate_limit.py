"""`429 rate_limited` (protocol.md §2) when DSOM_RATE_LIMIT is set: per organizer, exact."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from dsom.ingest.limits import RateLimited, RateLimiter
from dsom.kit.settings import Settings
from tests.builders import make_market
from tests.conftest import Database, serving


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_the_rate_and_never_holds_more_than_its_capacity() -> None:
    clock = Clock()
    limits = RateLimiter(6000, clock)
    assert limits.capacity == 12_000
    limits.take("A", 10_000)
    with pytest.raises(RateLimited) as refused:
        limits.take("A", 5_000)  # 2,000 left: 3,000 short, half a second at 6,000/s
    assert refused.value.status_code == 429
    assert refused.value.details == {"retry_after": 1}
    limits.take("B", 10_000)  # another organizer has its own bucket
    clock.now += 0.5
    limits.take("A", 5_000)
    clock.now += 3600
    limits.take("A", 12_000)  # a full bucket, not more
    with pytest.raises(RateLimited):
        limits.take("A", 1)


def test_a_small_rate_still_lets_a_whole_request_through_an_idle_bucket() -> None:
    clock = Clock()
    limits = RateLimiter(10, clock)
    limits.take("A", 10_000)
    with pytest.raises(RateLimited) as refused:
        limits.take("A", 100)
    assert refused.value.details == {"retry_after": 10}


def test_no_limit_by_default() -> None:
    limits = RateLimiter(Settings().rate_limit)
    for _ in range(100):
        limits.take("A", 10_000)


@pytest.fixture
def limited(database: Database, db: Engine) -> Iterator[str]:
    """A server whose organizers may each send 6,000 operations a second."""
    settings = Settings(database_url=database.url, rate_limit=6000)
    with serving(settings, database.engine) as (_app, base_url):
        yield base_url


def test_over_the_limit_is_429_with_retry_after_and_nothing_stored(
    limited: str, db: Engine
) -> None:
    market, other = make_market(db), make_market(db)
    junk = {"operations": [{"type": "nothing"}] * 10_000}  # cheap: each a schema_violation
    with httpx.Client(base_url=limited, timeout=60) as http:
        first = http.post("/api/v1/operations", json=junk, headers=market.headers)
        assert first.status_code == 200
        bet = market.online_bet()
        refused = http.post(
            "/api/v1/operations",
            json={"operations": [bet] * 1 + [{"type": "nothing"}] * 4_999},
            headers=market.headers,
        )
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.json()["error"]["retry_after"] == 1
        lookup = http.get(f"/api/v1/operations/{bet['operation_id']}", headers=market.headers)
        assert lookup.status_code == 404  # nothing of the refused request was stored
        # Another organizer is not held back by this one.
        assert http.post("/api/v1/operations", json=junk, headers=other.headers).status_code == 200
        time.sleep(1.0)
        again = http.post("/api/v1/operations", json={"operations": [bet]}, headers=market.headers)
        assert again.status_code == 200
        assert again.json()["accepted"] == 1
