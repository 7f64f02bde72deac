"""Decoding operations: every schema rule, the field it names, and the canonical form."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsom.ingest.schemas import (
    InvalidBody,
    SchemaViolation,
    decode_envelope,
    decode_operation,
    decode_struct,
    decode_whole,
    encode_canonical,
)


def bet(**changes: Any) -> dict[str, Any]:
    op = {
        "operation_id": "op-1",
        "type": "bet",
        "occurred_at": "2026-11-23T10:15:30.456+02:00",
        "license": "OC-2026-000001",
        "player_id": "p-1",
        "amount": 1000,
        "currency": "UAH",
        "game_type": "online_casino",
        "channel": {"kind": "website", "id": "WEB-000001"},
    }
    op.update(changes)
    return {k: v for k, v in op.items() if v is not ...}


def decode(op: Any) -> Any:
    return decode_operation(msgspec.Raw(json.dumps(op).encode()))


def violation(op: Any) -> SchemaViolation:
    with pytest.raises(SchemaViolation) as info:
        decode(op)
    return info.value


def test_a_valid_bet_decodes_with_its_instant_in_utc() -> None:
    op, at = decode(bet())
    assert op.operation_id == "op-1"
    assert at.isoformat() == "2026-11-23T08:15:30.456000+00:00"


@pytest.mark.parametrize(
    ("op", "field"),
    [
        (bet(amount=0), "amount"),
        (bet(amount=10_000_000_000_001), "amount"),
        (bet(amount=10.0), "amount"),
        (bet(amount="1000"), "amount"),
        (bet(amount=True), "amount"),
        (bet(operation_id=""), "operation_id"),
        (bet(operation_id="-starts-with-dash"), "operation_id"),
        (bet(operation_id="x" * 65), "operation_id"),
        (bet(operation_id="has space"), "operation_id"),
        (bet(player_id=""), "player_id"),
        (bet(player_id="p" * 65), "player_id"),
        (bet(game_type="lottery"), "game_type"),
        (bet(game_type=...), "game_type"),
        (bet(channel=...), "channel"),
        (bet(channel={"kind": "shop", "id": "1"}), "channel.kind"),
        (bet(channel={"kind": "website", "id": "W", "x": 1}), "channel"),
        (bet(game_ref=""), "game_ref"),
        (bet(game_ref=None), "game_ref"),
        (bet(payment_method="card"), "payment_method"),
        (bet(bet_id="b-1"), "bet_id"),
        (bet(currency=...), "currency"),
        (bet(currency=980), "currency"),
        (bet(type="lottery"), "type"),
        (bet(type=...), "type"),
        (bet(license=""), "license"),
        (bet(occurred_at="2026-11-23T10:15:30"), "occurred_at"),
        (bet(occurred_at="2026-11-23"), "occurred_at"),
        (bet(occurred_at="2026-11-23T10:15:30.1234567Z"), "occurred_at"),
        (bet(occurred_at="2026-02-30T10:15:30Z"), "occurred_at"),
        (bet(occurred_at="2026-11-23 10:15:30Z"), "occurred_at"),
        (bet(occurred_at=1700000000), "occurred_at"),
    ],
)
def test_each_schema_rule_names_its_field(op: dict[str, Any], field: str) -> None:
    error = violation(op)
    assert error.field is not None
    assert error.field.split(".")[0] == field.split(".", maxsplit=1)[0]


def test_a_win_needs_its_bet_id_and_allows_no_channel() -> None:
    win = {
        "operation_id": "w-1",
        "type": "win",
        "occurred_at": "2026-11-23T10:15:30Z",
        "license": "L",
        "player_id": "p",
        "amount": 5,
        "currency": "UAH",
        "bet_id": "b-1",
    }
    assert decode(win)[0].bet_id == "b-1"
    assert violation({k: v for k, v in win.items() if k != "bet_id"}).field == "bet_id"
    assert violation({**win, "channel": {"kind": "website", "id": "W"}}).field == "channel"


def test_a_non_object_element_is_a_schema_violation_without_an_id() -> None:
    assert violation([1, 2]).operation_id is None
    assert violation("op").operation_id is None


def test_the_operation_id_is_read_from_an_element_that_fails_the_schema() -> None:
    assert violation(bet(amount=-1)).operation_id == "op-1"


def test_any_currency_text_decodes_so_the_currency_rule_can_judge_it() -> None:
    assert decode(bet(currency="USD"))[0].currency == "USD"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nope",
        b"[]",
        b"{}",
        b'{"operations": {}}',
        b'{"operations": []}',
        b'{"operations": null}',
        b'"x"',
    ],
)
def test_bodies_that_are_not_an_operations_array_are_invalid(body: bytes) -> None:
    with pytest.raises(InvalidBody):
        decode_envelope(body)


def test_elements_of_the_envelope_stay_raw() -> None:
    raws = decode_envelope(b'{"operations": [1, {"a": 2}]}')
    assert [bytes(r) for r in raws] == [b"1", b'{"a": 2}']


def test_a_body_of_good_operations_decodes_whole_as_element_by_element() -> None:
    ops = [bet(), bet(operation_id="op-2", channel={"kind": "mobile_app", "id": "APP-1"})]
    body = json.dumps({"operations": ops}).encode()

    whole = decode_whole(body)

    assert whole is not None
    assert whole == [decode_struct(raw) for raw in decode_envelope(body)]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"operations": [bet(), bet(amount=0)]}).encode(),  # one element is bad
        json.dumps({"operations": [bet(), 1]}).encode(),
        b'{"operations": []}',
        b'{"operations": [' + json.dumps(bet()).encode() + b'], "x": "\xff"}',
        b"nope",
    ],
)
def test_a_body_with_anything_wrong_is_not_decoded_whole(body: bytes) -> None:
    assert decode_whole(body) is None


_ELEMENT = st.sampled_from(
    [
        bet(),
        bet(operation_id="op-2", amount=5),
        bet(amount=0),
        bet(currency="EUR"),
        bet(channel={"kind": "nowhere", "id": "X"}),
        bet(occurred_at="yesterday"),
        {
            "operation_id": "w-1",
            "type": "win",
            "occurred_at": "2026-11-23T10:15:30Z",
            "license": "L",
            "player_id": "p",
            "amount": 3,
            "currency": "UAH",
            "bet_id": "op-1",
        },
        7,
    ]
)


@given(st.lists(_ELEMENT, min_size=1, max_size=6))
def test_decoding_whole_agrees_with_decoding_element_by_element(elements: list[Any]) -> None:
    body = json.dumps({"operations": elements}).encode()
    one_by_one = []
    for raw in decode_envelope(body):
        try:
            one_by_one.append(decode_struct(raw))
        except SchemaViolation:
            one_by_one.append(None)

    whole = decode_whole(body)

    if None in one_by_one:
        assert whole is None
    else:
        assert whole == one_by_one


text = st.text(min_size=1, max_size=64)


@settings(max_examples=300)
@given(
    player=text,
    ref=st.one_of(st.none(), st.text(min_size=1, max_size=128)),
    amount=st.integers(1, 10_000_000_000_000),
    channel_id=text,
    order=st.permutations(
        [
            "operation_id",
            "type",
            "occurred_at",
            "license",
            "player_id",
            "amount",
            "currency",
            "game_type",
            "channel",
        ]
    ),
)
def test_canonical_form_equals_the_specs_json_dumps(
    player: str, ref: str | None, amount: int, channel_id: str, order: list[str]
) -> None:
    op = bet(player_id=player, amount=amount, channel={"id": channel_id, "kind": "website"})
    if ref is not None:
        op["game_ref"] = ref
    as_sent = {k: op[k] for k in order} | ({"game_ref": ref} if ref is not None else {})
    body = json.dumps(as_sent, ensure_ascii=bool(amount % 2)).encode()
    decoded, _ = decode_operation(msgspec.Raw(body))
    expected = json.dumps(
        json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert encode_canonical(decoded) == expected


# --- occurred_at: the sliced fast path against the standard library's reading ------------

_DIGIT = st.sampled_from("0123456789")


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(_DIGIT, min_size=n, max_size=n)


_ZONES = st.one_of(
    st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "+02:00", "-12:30", "+23:59", "+24:00"]),
    st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), _digits(2), _digits(2)),
)
_FRACTIONS = st.one_of(st.just(""), st.builds(lambda d: "." + d, st.text(_DIGIT, max_size=8)))
_INSTANTS = st.builds(
    lambda y, mo, d, t, h, mi, s, f, z: f"{y}-{mo}-{d}{t}{h}:{mi}:{s}{f}{z}",
    _digits(4),
    _digits(2),
    _digits(2),
    st.sampled_from("Tt "),
    _digits(2),
    _digits(2),
    _digits(2),
    _FRACTIONS,
    _ZONES,
)
# One character of a well-formed instant replaced: a sign, a separator, a non-ASCII digit.
_MUTATED = st.builds(
    lambda text, at, char: text[:at] + char + text[at + 1 :],
    _INSTANTS,
    st.integers(0, 32),
    st.sampled_from("0123456789-:T.tZz+ x\u0663\u00b2\n"),
)


def _read(text: str, parse: Any) -> int | str:
    op = decode(bet(occurred_at="2026-11-23T10:15:30Z"))[0]
    try:
        return int(parse(msgspec.structs.replace(op, occurred_at=text)))
    except SchemaViolation as violation:
        return f"schema_violation of {violation.field}"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_INSTANTS, _MUTATED))
def test_occurred_at_fast_path_reads_every_text_as_the_standard_library_does(text: str) -> None:
    from dsom.ingest.schemas import _occurred_us_parsed, occurred_us

    assert _read(text, occurred_us) == _read(text, _occurred_us_parsed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:15:30Z", 1_795_428_930_000_000),
        ("2026-11-23T10:15:30.4Z", 1_795_428_930_400_000),
        ("2026-11-23t10:15:30.000456z", 1_795_428_930_000_456),
        ("2026-11-23T12:15:30.123456+02:00", 1_795_428_930_123_456),
        ("2026-11-23T05:45:30-04:30", 1_795_428_930_000_000),
        ("0001-01-01T00:00:00+02:00", -62_135_604_000_000_000),
        ("2026-02-30T10:15:30Z", "schema_violation of occurred_at"),
        ("2026-11-23T10:15:60Z", "schema_violation of occurred_at"),
        ("2026-11-23T10:15:30+24:00", "schema_violation of occurred_at"),
        ("2026-11-23T10:15:30.1234567Z", "schema_violation of occurred_at"),
        ("2026-11-23T10:15:30.Z", "schema_violation of occurred_at"),
        ("2026-11-23T10:15:\u00b20Z", "schema_violation of occurred_at"),
    ],
)
def test_occurred_at_instants_by_the_fast_path(text: str, expected: int | str) -> None:
    from dsom.ingest.schemas import occurred_us

    assert _read(text, occurred_us) == expected


def test_a_body_not_in_utf8_is_invalid_whichever_way_it_is_decoded() -> None:
    body = b'{"operations": [' + json.dumps(bet()).encode() + b'], "x": "\xff"}'
    assert decode_whole(body) is None
    with pytest.raises(InvalidBody):
        decode_envelope(body)
