"""EDRPOU and RNOKPP check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsom.kit.codes import (
    is_valid_edrpou,
    is_valid_rnokpp,
    make_edrpou,
    make_rnokpp,
)


@pytest.mark.parametrize(
    "code",
    [
        "14360570",  # below 30 000 000: weights 1..7
        "00032129",  # leading zeros are part of the code
        "31316718",  # between 30 and 60 million: weights 7, 1..6
    ],
)
def test_known_edrpou_codes_are_valid(code: str) -> None:
    assert is_valid_edrpou(code)


@pytest.mark.parametrize(
    "code",
    [
        "14360571",  # wrong check digit
        "1436057",  # seven digits
        "143605700",  # nine digits
        "1436057a",
        " 14360570",
        "١٤٣٦٠٥٧٠",  # Arabic-Indic digits are digits, but not ASCII ones
        "",
    ],
)
def test_malformed_or_miscomputed_edrpou_codes_are_invalid(code: str) -> None:
    assert not is_valid_edrpou(code)


def test_edrpou_falls_back_to_weights_plus_two_when_the_sum_leaves_ten() -> None:
    # 0000003: 3 x 7 = 21, 21 % 11 = 10, so again with weights 3..9: 3 x 9 = 27, 27 % 11 = 5.
    assert is_valid_edrpou("00000035")
    assert make_edrpou(3) == "00000035"


def test_edrpou_check_digit_is_zero_when_both_sums_leave_ten() -> None:
    # 0000281: 2x5 + 8x6 + 1x7 = 65 and 2x7 + 8x8 + 1x9 = 87, both 10 modulo 11.
    assert is_valid_edrpou("00002810")
    assert make_edrpou(281) == "00002810"


def test_edrpou_weights_are_chosen_by_the_whole_code() -> None:
    # 60000009 lies above 60 000 000, so its digits weigh 1..7: 6 x 1 = 6, check digit 6.
    assert is_valid_edrpou("60000006")
    assert not is_valid_edrpou("60000009")
    # 60000000 itself lies in the range: 6 x 7 = 42, 42 % 11 = 9; so 60000000 is not valid.
    assert not is_valid_edrpou("60000000")


def test_known_rnokpp_is_valid() -> None:
    assert is_valid_rnokpp("3184710691")


@pytest.mark.parametrize("code", ["3184710690", "318471069", "31847106911", "318471069x", ""])
def test_malformed_or_miscomputed_rnokpp_are_invalid(code: str) -> None:
    assert not is_valid_rnokpp(code)


@given(st.integers(min_value=0, max_value=9_999_999))
def test_made_edrpou_is_valid_and_any_other_last_digit_is_not(serial: int) -> None:
    code = make_edrpou(serial)
    assert len(code) == 8
    assert code[:7] == f"{serial:07d}"
    assert is_valid_edrpou(code)
    for digit in "0123456789":
        if digit != code[7]:
            assert not is_valid_edrpou(code[:7] + digit)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_made_rnokpp_is_valid_and_any_other_last_digit_is_not(serial: int) -> None:
    code = make_rnokpp(serial)
    assert len(code) == 10
    assert is_valid_rnokpp(code)
    for digit in "0123456789":
        if digit != code[9]:
            assert not is_valid_rnokpp(code[:9] + digit)
