"""Who sees which report (reports.md, "Who sees what"), each role × each report, through
officials' tokens and people's office sessions; and an organizer's figures are its own
whatever filter it sends. Both databases, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from dsom.auth.permissions import Permission, Role
from dsom.registers.models import CURRENT
from tests.builders import make_organizer
from tests.conftest import Server, token_for
from tests.ingest.helpers import Market, bet, iso_z, new_market, payment, post, settlement
from tests.people.helpers import make_person
from tests.reports.helpers import REPORTS
from tests.web.offices import Offices, head_of, representative, trusted_offices

ALL = {
    "system-status",
    "submission-health",
    "rejections",
    "licenses",
    "compliance",
    "large-wins",
    "market-volumes",
    "player-activity",
    "market-share",
    "ggr",
    "payments",
    "winnings-tax",
}
TAX = {"ggr", "payments", "winnings-tax", "market-volumes", "large-wins"}
OWN = {
    "submission-health",
    "rejections",
    "market-volumes",
    "player-activity",
    "ggr",
    "payments",
    "winnings-tax",
    "large-wins",
}
# Written out again from reports.md, not read from the declarations.
SEES: dict[str, set[str]] = {
    "regulator token": ALL,
    "tax token": TAX,
    "regulator person": ALL,
    "regulator admin": ALL,
    "tax person": TAX,
    "organizer head": OWN,
    "representative with reports": OWN,
    "representative without reports": set(),
}


@pytest.fixture
def offices(server: Server, db: Engine, tmp_path: Path) -> Iterator[Offices]:
    """People log in to the test server with certificates of a test CA."""
    yield from trusted_offices(server, tmp_path)


def _caller(who: str, db: Engine, offices: Offices, organizer: dict[str, Any]) -> httpx.Client:
    """An HTTP client acting as `who`."""
    if who.endswith("token"):
        client = offices.client()
        client.headers.update(token_for(db, who.split(maxsplit=1)[0]))
        return client
    people = {
        "regulator person": lambda: make_person(db, role=Role.REGULATOR),
        "regulator admin": lambda: make_person(db, role=Role.REGULATOR_ADMIN),
        "tax person": lambda: make_person(db, role=Role.TAX),
        "organizer head": lambda: head_of(db, organizer),
        "representative with reports": lambda: representative(
            db, organizer["edrpou"], Permission.REPORTS_OWN
        ),
        "representative without reports": lambda: representative(
            db, organizer["edrpou"], Permission.KEYS_MANAGE
        ),
    }
    return offices.log_in(people[who]()).client


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_sees_exactly_its_reports(db: Engine, offices: Offices, who: str) -> None:
    organizer = make_organizer(db)
    client = _caller(who, db, offices, organizer)

    listed = client.get(REPORTS)
    assert listed.status_code == 200, listed.text
    assert {r["id"] for r in listed.json()} == SEES[who]
    for report in sorted(ALL):
        answer = client.get(f"{REPORTS}/{report}")
        if report in SEES[who]:
            assert answer.status_code == 200, (report, answer.text)
        else:
            assert answer.status_code == 403, (report, answer.text)
            assert answer.json()["error"]["code"] == "forbidden"


def test_without_credentials_or_with_an_access_key_it_is_401(
    http: httpx.Client, db: Engine
) -> None:
    market = new_market(db)
    for headers in ({}, market.headers, {"Authorization": "Bearer nonsense"}):
        assert http.get(REPORTS, headers=headers).status_code == 401
        assert http.get(f"{REPORTS}/ggr", headers=headers).status_code == 401


def _organizer(db: Engine, code: str) -> dict[str, Any]:
    table = CURRENT["organizers"]
    with db.connect() as conn:
        return dict(conn.execute(select(table).where(table.c.edrpou == code)).mappings().one())


def _trade(http: httpx.Client, market: Market, amount: int) -> None:
    """Bets, a large win, a refund, a deposit and a rejected operation of one organizer."""
    casino = market.licences["online_casino"]
    site = casino.channels[0]
    now = datetime.now(UTC)
    ops = [
        bet("b-1", licence=casino.number, channel=site, game_type="online_casino",
            occurred_at=iso_z(now), amount=amount, player_id="shared-player"),
        bet("b-2", licence=casino.number, channel=site, game_type="online_casino",
            occurred_at=iso_z(now - timedelta(hours=2)), amount=amount * 2),
        settlement("win", "w-1", bet_id="b-1", licence=casino.number, occurred_at=iso_z(now),
                   amount=amount * 10, player_id="shared-player"),
        settlement("refund", "r-1", bet_id="b-2", licence=casino.number,
                   occurred_at=iso_z(now), amount=amount),
        payment("deposit", "d-1", licence=casino.number, channel=site, occurred_at=iso_z(now),
                amount=amount * 3),
        {"operation_id": "bad", "type": "bet"},
    ]  # fmt: skip
    answer = post(http, market.headers, ops).json()
    assert (answer["accepted"], answer["rejected"]) == (5, 1), answer


def test_an_organizers_figures_are_its_own_whatever_filter_it_sends(
    http: httpx.Client, db: Engine, offices: Offices, regulator: dict[str, str]
) -> None:
    mine, theirs = new_market(db), new_market(db)
    _trade(http, mine, 1_000_000)
    _trade(http, theirs, 700_000)
    head = offices.log_in(head_of(db, _organizer(db, mine.organizer)))

    for report in sorted(OWN):
        own = head.client.get(f"{REPORTS}/{report}")
        assert own.status_code == 200, own.text
        same = head.client.get(f"{REPORTS}/{report}", params={"organizer": mine.organizer})
        assert same.json() == own.json()
        other = head.client.get(f"{REPORTS}/{report}", params={"organizer": theirs.organizer})
        assert other.status_code == 403
        assert other.json()["error"]["code"] == "forbidden"
        filtered = http.get(
            f"{REPORTS}/{report}", headers=regulator, params={"organizer": mine.organizer}
        )
        assert own.json() == filtered.json(), report
        everyone = http.get(f"{REPORTS}/{report}", headers=regulator)
        assert everyone.json() != own.json(), report  # the other organizer's data exists
        assert own.json()["rows"], report
        text = str(own.json()["rows"])
        assert theirs.organizer not in text, report
        assert "700000" not in text, report  # the other's amounts, and sums of them
        assert "1400000" not in text, report
