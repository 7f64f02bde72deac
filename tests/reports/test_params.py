"""The reports' common parameters: defaults, dates and instants, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dsom.auth.permissions import Permission, Role, permissions_of
from dsom.auth.principal import Principal
from dsom.kit.errors import DomainError
from dsom.kit.settings import Settings
from dsom.reports.declarations import REPORTS
from dsom.reports.params import DEFAULT_THRESHOLD, parse
from dsom.reports.service import half_up_div, instant, share_pct
from tests.reports.helpers import REPORTS as PATH

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # the 23-hour day
SETTINGS = Settings(database_url="sqlite://")


def _principal(role: Role, organizer: str | None = None) -> Principal:
    perms = permissions_of(frozenset({role}), frozenset({Permission.REPORTS_OWN}))
    return Principal("token", "1", "test", frozenset({role}), perms, organizer)


REGULATOR = _principal(Role.REGULATOR)
TAX = _principal(Role.TAX)
HEAD = _principal(Role.ORGANIZER_HEAD, "12345678")


def _parse(report: str, principal: Principal = REGULATOR, **raw: str):  # type: ignore[no-untyped-def]
    return parse(REPORTS[report], raw, principal, SETTINGS, NOW)


def test_the_default_range_is_this_kyiv_month_up_to_tomorrow() -> None:
    q = _parse("ggr")
    assert q.start == datetime(2026, 2, 28, 22, tzinfo=UTC)  # 1 March, 00:00+02:00
    assert q.end == datetime(2026, 3, 29, 21, tzinfo=UTC)  # 30 March, 00:00+03:00
    assert (q.granularity, q.organizer, q.activity, q.threshold) == (
        "day",
        None,
        None,
        DEFAULT_THRESHOLD,
    )


def test_dates_are_kyiv_midnights_and_instants_keep_their_offset() -> None:
    q = _parse("ggr", **{"from": "2026-10-25", "to": "2026-10-25T03:00:00+02:00"})
    assert q.start == datetime(2026, 10, 24, 21, tzinfo=UTC)
    assert q.end == datetime(2026, 10, 25, 1, tzinfo=UTC)
    q = _parse("large-wins", **{"from": "2026-03-01T10:15:30.5Z", "to": "2026-03-02"})
    assert q.start == datetime(2026, 3, 1, 10, 15, 30, 500_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("report", "raw", "field"),
    [
        ("ggr", {"from": "yesterday"}, "from"),
        ("ggr", {"to": "2026-13-01"}, "to"),
        ("ggr", {"from": "2026-03-10", "to": "2026-03-10"}, "from"),
        ("ggr", {"from": "2026-03-10T10:30:00Z"}, "from"),
        ("ggr", {"to": "2026-03-29T10:00:00.000001Z"}, "to"),
        ("ggr", {"granularity": "week"}, "granularity"),
        ("ggr", {"activity": "lottery"}, "activity"),
        ("ggr", {"threshold": "5000000"}, "threshold"),
        ("compliance", {"granularity": "day"}, "granularity"),
        ("licenses", {"from": "2026-03-01"}, "from"),
        ("system-status", {"organizer": "12345678"}, "organizer"),
        ("submission-health", {"to": "2026-03-30"}, "to"),
        ("large-wins", {"threshold": "999999"}, "threshold"),
        ("large-wins", {"threshold": "1e7"}, "threshold"),
        ("large-wins", {"threshold": "-5"}, "threshold"),
        ("large-wins", {"threshold": "١٠٠٠٠٠٠٠"}, "threshold"),
        ("large-wins", {"threshold": str(10**13 + 1)}, "threshold"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(report: str, raw: dict[str, str], field: str) -> None:
    with pytest.raises(DomainError) as caught:
        _parse(report, **raw)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_parameter")
    assert caught.value.details == {"field": field}


def test_the_threshold_may_be_the_floor_itself() -> None:
    assert _parse("large-wins", threshold="1000000").threshold == 1_000_000


def test_an_organizer_sees_its_own_and_is_refused_another() -> None:
    assert _parse("ggr", HEAD).organizer == "12345678"
    assert _parse("ggr", HEAD, organizer="12345678").organizer == "12345678"
    with pytest.raises(DomainError) as caught:
        _parse("ggr", HEAD, organizer="87654321")
    assert (caught.value.status_code, caught.value.code) == (403, "forbidden")
    with pytest.raises(DomainError) as caught:
        _parse("compliance", HEAD)
    assert caught.value.status_code == 403
    # The regulator's filter chooses; the tax service's too.
    assert _parse("ggr", REGULATOR, organizer="87654321").organizer == "87654321"
    assert _parse("ggr", TAX, organizer="87654321").organizer == "87654321"


def test_a_refusal_over_http_has_the_error_body(
    http: httpx.Client, regulator: dict[str, str]
) -> None:
    answer = http.get(f"{PATH}/large-wins", headers=regulator, params={"threshold": "10"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", "threshold")
    assert "1000000" in error["message"]
    missing = http.get(f"{PATH}/no-such-report", headers=regulator)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("part", "whole", "pct"),
    [
        (1, 3, 33.33),
        (2, 3, 66.67),
        (1, 8, 12.5),
        (1, 80_000, 0.0),
        (1, 40_000, 0.0),  # 0.0025 % → 0.00
        (1, 20_000, 0.01),  # 0.005 % → half up
        (-1, 20_000, -0.01),  # half away from zero
        (-1, 3, -33.33),
        (5, 0, None),
        (5, -3, None),
        (7, 7, 100.0),
    ],
)
def test_shares_round_half_up_to_two_decimals(part: int, whole: int, pct: float | None) -> None:
    assert share_pct(part, whole) == pct


def test_averages_round_half_up_and_instants_are_kyiv_time() -> None:
    assert [half_up_div(n, 2) for n in (1, 3, 5, -1)] == [1, 2, 3, -1]
    assert half_up_div(10, 3) == 3
    assert half_up_div(11, 3) == 4
    assert instant(1_792_892_400_000_001) == "2026-10-25T03:40:00.000001+02:00"  # the 2nd 03:40
