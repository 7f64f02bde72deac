"""The rules' memory of licences and channels in good standing (rules.check, state.Timeline.span).

`RegistersIndex.standing` lets an operation through a licence and channel already found
in good standing skip reading their versions, for as long as every version consulted
stays in force. The property here: with that memory kept across any sequence of
operations, every answer is the one the rules give reading the versions afresh.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from dsom.auth.principal import SYSTEM
from dsom.ingest.rules import BatchView, check
from dsom.ingest.schemas import Bet, Channel, Deposit, Operation, Win
from dsom.ingest.state import (
    FOREVER,
    NEVER,
    BetCache,
    BetState,
    ChannelVersion,
    LicenceVersion,
    RegistersIndex,
    Timeline,
    to_us,
)
from dsom.kit.db import write_transaction
from dsom.registers import service
from dsom.registers.declarations import LICENCES as LICENCES_REGISTER
from tests.ingest.helpers import GROUNDS, new_licence, new_organizer

ORG, OTHER = "10000001", "20000002"
LICENCES = ("L-1", "L-2")
ACTIVITIES = ("online_casino", "bookmaking")
NOW = 1_000_000
WINDOW = 10**12
PLACES = [("website", "W-1"), ("website", "W-2"), ("establishment", "E-1"), ("equipment", "Q-1")]


def test_span_gives_the_version_in_force_and_the_instants_it_is_in_force() -> None:
    first = LicenceVersion(NEVER, "active", "online_casino", NEVER, FOREVER)
    second = LicenceVersion(100, "suspended", "online_casino", NEVER, FOREVER)
    third = LicenceVersion(200, "active", "online_casino", NEVER, FOREVER)
    timeline = Timeline(ORG, [first, second, third])

    assert timeline.span(-5) == (first, NEVER, 100)
    assert timeline.span(99) == (first, NEVER, 100)
    assert timeline.span(100) == (second, 100, 200)
    assert timeline.span(10**15) == (third, 200, FOREVER)
    assert Timeline(ORG, [first]).span(7) == (first, NEVER, FOREVER)


# --- the property ---------------------------------------------------------------------------

# Dense on purpose: mostly the organizer's own, active, matching entries, so that many
# operations pass and later ones through the same pair fall on either side of a change.
instants = st.integers(0, 1_000)
statuses = st.sampled_from(["active"] * 5 + ["inactive"])


@st.composite
def timelines(draw: st.DrawFn, make: Any, organizer: str | None = None) -> Timeline[Any]:
    """1–3 versions taking effect at increasing instants, the first one since NEVER."""
    count = draw(st.integers(1, 3))
    starts = sorted(draw(st.lists(instants, min_size=count - 1, max_size=count - 1)))
    versions = [make(draw, since) for since in [NEVER, *starts]]
    return Timeline(organizer or draw(st.sampled_from([ORG] * 7 + [OTHER])), versions)


def _licence_version(draw: st.DrawFn, since: int) -> LicenceVersion:
    return LicenceVersion(
        since,
        draw(st.sampled_from(["active", "active", "active", "suspended"])),
        draw(st.sampled_from([ACTIVITIES[0], ACTIVITIES[0], ACTIVITIES[1]])),
        draw(st.sampled_from([NEVER, NEVER, 200, 600])),  # valid from
        draw(st.sampled_from([FOREVER, FOREVER, 500, 900])),  # valid until
    )


def _channel_version(parents: tuple[str, ...]) -> Any:
    def make(draw: st.DrawFn, since: int) -> ChannelVersion:
        return ChannelVersion(since, draw(statuses), draw(st.sampled_from(parents)))

    return make


@st.composite
def registers(draw: st.DrawFn) -> RegistersIndex:
    index = RegistersIndex()
    for number in LICENCES:
        index.licences[number] = draw(timelines(_licence_version))
    mostly_first = (LICENCES[0],) * 5 + (LICENCES[1],)
    for key in ("W-1", "W-2"):
        index.channels[("website", key)] = draw(timelines(_channel_version(mostly_first)))
    index.channels[("establishment", "E-1")] = draw(timelines(_channel_version(mostly_first)))
    index.channels[("equipment", "Q-1")] = draw(
        timelines(_channel_version(("E-1",) * 5 + ("E-2",)))
    )
    return index


@st.composite
def operations(draw: st.DrawFn) -> tuple[Operation, int]:
    at = draw(instants)
    common: dict[str, Any] = {
        "operation_id": f"op-{draw(st.integers(1, 10**6))}",
        "occurred_at": f"t={at}",
        "license": draw(
            st.sampled_from([LICENCES[0], LICENCES[0], LICENCES[0], *LICENCES[1:], "L-9"])
        ),
        "player_id": "p-1",
        "amount": 10,
        "currency": "UAH",
    }
    kind = draw(st.sampled_from(["bet", "deposit", "win"]))
    if kind == "win":
        return Win(**common, bet_id=f"b-{common['license']}"), at
    place = Channel(*draw(st.sampled_from(PLACES)))
    if kind == "bet":
        game = draw(st.sampled_from([ACTIVITIES[0], ACTIVITIES[0], ACTIVITIES[1]]))
        return Bet(**common, game_type=game, channel=place), at
    return Deposit(**common, channel=place, payment_method="card"), at


def _view(index: RegistersIndex) -> BatchView:
    bets = BetCache()
    for number in LICENCES:
        bets.put(ORG, f"b-{number}", BetState(1, number, "p-1", 100, "online_casino", 0))
    return BatchView(index, {}, bets, {}, WINDOW, {}, set())


def _answer(result: tuple[Any, Any]) -> tuple[Any, ...]:
    rejection, found = result
    if rejection is not None:
        return (rejection.code, rejection.field, rejection.message)
    return (None, found)


@settings(max_examples=300, deadline=None)
@given(index=registers(), ops=st.lists(operations(), min_size=10, max_size=40))
def test_remembered_standing_answers_as_reading_the_versions_afresh(
    index: RegistersIndex, ops: list[tuple[Operation, int]]
) -> None:
    remembering = _view(index)
    for op, at in ops:
        remembered = _answer(check(remembering, ORG, op, at, NOW, None))
        event("accepted" if remembered[0] is None else "rejected")
        index_now = index.standing
        index.standing = {}
        afresh = _answer(check(_view(index), ORG, op, at, NOW, None))
        index.standing = index_now
        assert remembered == afresh, (op, at)


def test_a_load_that_finds_changes_forgets_what_was_remembered(db: Engine) -> None:
    org = new_organizer(db)
    number = new_licence(db, organizer=org, activity="bookmaking")
    index = RegistersIndex()
    with db.begin() as conn:
        index.load(conn)
    view = BatchView(index, {}, BetCache(), {}, WINDOW, {}, set())
    view.bets.put(org, "b-1", BetState(1, number, "p-1", 100, "bookmaking", 0))
    payout = Win(
        operation_id="w-1",
        occurred_at="now",
        license=number,
        player_id="p-1",
        amount=1,
        currency="UAH",
        bet_id="b-1",
    )
    now = to_us(datetime.now(UTC))
    assert check(view, org, payout, now, now, None)[0] is None
    assert (org, number, "", "") in index.standing

    with db.begin() as conn:
        assert not index.load(conn)  # nothing changed: what was found still stands
    assert (org, number, "", "") in index.standing
    with write_transaction(db) as conn:
        service.set_status(conn, LICENCES_REGISTER, SYSTEM, number, "suspended", GROUNDS)
    with db.begin() as conn:
        assert index.load(conn)
    assert index.standing == {}
    later = to_us(datetime.now(UTC)) + 1_000_000
    rejection, _ = check(view, org, payout, later, later, None)
    assert rejection is not None
    assert rejection.code == "license_inactive"


def test_equipment_is_remembered_only_while_its_establishment_stays_as_it_was() -> None:
    index = RegistersIndex()
    index.licences["L-1"] = Timeline(
        ORG, [LicenceVersion(NEVER, "active", "slot_hall", NEVER, FOREVER)]
    )
    index.channels[("establishment", "E-1")] = Timeline(
        ORG, [ChannelVersion(NEVER, "active", "L-1"), ChannelVersion(500, "inactive", "L-1")]
    )
    index.channels[("equipment", "Q-1")] = Timeline(ORG, [ChannelVersion(NEVER, "active", "E-1")])
    view = _view(index)

    def stake(at: int) -> tuple[Any, Any]:
        op = Bet(
            operation_id=f"op-{at}",
            occurred_at=f"t={at}",
            license="L-1",
            player_id="p-1",
            amount=1,
            currency="UAH",
            game_type="slot_hall",
            channel=Channel("equipment", "Q-1"),
        )
        return _answer(check(view, ORG, op, at, NOW, None))

    assert stake(100) == (None, "slot_hall")
    assert stake(499) == (None, "slot_hall")
    assert stake(500)[:2] == ("channel_inactive", "channel")
    assert stake(100) == (None, "slot_hall")
