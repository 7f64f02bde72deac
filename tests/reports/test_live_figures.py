"""system-status and submission-health on rollup rows written at chosen hours: what
"last hour", "today", `silent` and `degraded` mean, which the property tests (whose
operations all arrive within a few seconds) cannot reach. Both databases, over HTTP.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, insert, select, update

from dsom.ingest.models import submissions_hourly
from dsom.kit.time import KYIV, kyiv_midnight
from dsom.reports.live import Throughput
from tests.builders import make_licence, make_mobile_app, make_organizer, make_website
from tests.conftest import Server
from tests.reports.helpers import HOUR_US, get, kyiv_text, us_of


def _submitted(db: Engine, organizer: str, hour: int, **figures: int) -> None:
    """Record what the organizer sent in the hour, added to what is there, as the engine
    adds it (in the hour after Kyiv midnight, "midnight" and "this hour" are one hour)."""
    row = {
        "organizer": organizer,
        "hour": hour,
        "requests": 1,
        "received": 0,
        "accepted": 0,
        "duplicates": 0,
        "rejected": 0,
        "last_received_us": hour * HOUR_US + 1_000_000,
        **figures,
    }
    s = submissions_hourly.c
    with db.begin() as conn:
        there = conn.execute(
            select(submissions_hourly).where(s.organizer == organizer, s.hour == hour)
        ).first()
        if there is None:
            conn.execute(insert(submissions_hourly).values(**row))
            return
        added = {
            name: getattr(there, name) + row[name]
            for name in ("requests", "received", "accepted", "duplicates", "rejected")
        }
        added["last_received_us"] = max(there.last_received_us, row["last_received_us"])
        conn.execute(
            update(submissions_hourly)
            .where(s.organizer == organizer, s.hour == hour)
            .values(**added)
        )


def _status(http: httpx.Client, regulator: dict[str, str]) -> dict[str, object]:
    answer = get(http, regulator, "system-status")
    return dict(zip(answer["columns"], answer["rows"][0], strict=True))


def test_last_hour_is_this_clock_hour_and_the_one_before(
    http: httpx.Client, db: Engine, regulator: dict[str, str]
) -> None:
    a, b, c = (make_organizer(db)["edrpou"] for _ in range(3))
    now = us_of(datetime.now(UTC)) // HOUR_US
    _submitted(db, a, now - 2, received=100, accepted=100)
    _submitted(db, a, now - 1, received=12, accepted=10, rejected=2)
    _submitted(db, b, now, received=5, accepted=5)
    _submitted(db, c, now - 2, received=7, accepted=0, rejected=7)

    status = _status(http, regulator)

    assert status["accepted_last_hour"] == 15
    assert status["rejected_last_hour"] == 2
    assert status["organizers_reporting_last_hour"] == 2


def test_submission_health_today_silent_and_degraded(
    http: httpx.Client, db: Engine, regulator: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    now_us = us_of(now)
    hour = now_us // HOUR_US
    midnight = us_of(kyiv_midnight(now.astimezone(KYIV).date())) // HOUR_US

    def organizer(activity: str | None = None, channel: str | None = None) -> str:
        code = str(make_organizer(db)["edrpou"])
        if activity is not None:
            number = make_licence(db, organizer=code, activity=activity)["number"]
            if channel == "website":
                make_website(db, organizer=code, licence=number)
            elif channel == "app":
                make_mobile_app(db, organizer=code, licence=number)
        return code

    quiet = organizer("online_casino")  # never sent anything: silent
    late = organizer("online_poker")  # last sent 61 minutes ago: silent
    recent = organizer("online_poker")  # last sent 59 minutes ago: ok
    shop = organizer("bookmaking")  # bookmaking without a website or app: never silent
    app = organizer("bookmaking", "app")  # with an app: silent
    bad = organizer()  # 6 of 100 rejected today: degraded
    fine = organizer()  # 5 of 100: ok
    land = organizer("slot_hall")  # nothing at all: no row
    _submitted(
        db, late, hour - 1, received=3, accepted=3, last_received_us=now_us - 61 * 60_000_000
    )
    _submitted(
        db, recent, hour - 1, received=4, accepted=4, last_received_us=now_us - 59 * 60_000_000
    )
    _submitted(db, shop, hour - 5, received=2, accepted=2)
    _submitted(db, bad, hour, received=100, accepted=94, rejected=6)
    _submitted(db, fine, hour, received=60, accepted=57, rejected=3)
    _submitted(db, fine, midnight, received=40, accepted=38, rejected=2)
    _submitted(db, fine, midnight - 1, received=50, accepted=0, rejected=50)  # yesterday

    answer = get(http, regulator, "submission-health")
    rows = {row[0]: row for row in answer["rows"]}

    assert land not in rows
    assert [rows[quiet][1], rows[quiet][5]] == [None, "silent"]
    assert rows[late][5] == "silent"
    assert rows[recent][5] == "ok"
    assert rows[shop][5] == "ok"
    assert rows[app][5] == "silent"
    assert rows[bad][2:] == [94, 94, 6, "degraded"]
    in_last_hour = 57 + (38 if midnight >= hour - 1 else 0)
    assert rows[fine][2:] == [in_last_hour, 95, 5, "ok"]
    assert rows[recent][1] == kyiv_text(now_us - 59 * 60_000_000)
    assert [row[0] for row in answer["rows"]] == sorted(rows)


def test_accepted_last_minute_counts_from_the_sample_a_minute_old(db: Engine) -> None:
    throughput = Throughput(db)
    throughput.sample(total=100, at=1000.0)
    throughput.sample(total=160, at=1030.0)
    throughput.sample(total=200, at=1061.0)

    assert throughput.last_minute(260, now=1065.0) == 160  # since the sample at 1000 s
    assert throughput.last_minute(260, now=1091.0) == 100  # since 1030 s
    throughput.sample(total=3, at=1092.0)  # the database was emptied
    assert throughput.last_minute(5, now=1093.0) == 2


def test_the_server_samples_the_accepted_total_every_second(
    http: httpx.Client, server: Server, regulator: dict[str, str]
) -> None:
    throughput = server.app.state.report_throughput
    last = throughput.samples[-1][0] if throughput.samples else 0.0
    deadline = time.monotonic() + 5
    while not (throughput.samples and throughput.samples[-1][0] > last):
        assert time.monotonic() < deadline, "no sample in 5 s"
        time.sleep(0.05)
    status = _status(http, regulator)
    assert (status["accepted_last_minute"], status["accepted_total"]) == (0, 0)
