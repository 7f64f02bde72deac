"""Ukrainian state identifiers: EDRPOU (companies) and RNOKPP (people), with check digits."""

from __future__ import annotations


def edrpou_check_digit(first7: str) -> int:
    """The eighth digit of an EDRPOU code, by the State Statistics Service's algorithm."""
    digits = [int(c) for c in first7]
    value = int(first7 + "0")
    weights = [7, 1, 2, 3, 4, 5, 6] if 30_000_000 <= value <= 60_000_000 else [1, 2, 3, 4, 5, 6, 7]
    control = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    if control >= 10:
        control = sum(d * (w + 2) for d, w in zip(digits, weights, strict=True)) % 11
        if control >= 10:
            control = 0
    return control


def is_valid_edrpou(code: str) -> bool:
    """Eight digits whose last is the check digit of the first seven."""
    return (
        len(code) == 8
        and code.isascii()
        and code.isdigit()
        and (edrpou_check_digit(code[:7]) == int(code[7]))
    )


def make_edrpou(serial: int) -> str:
    """A valid EDRPOU code from a seven-digit serial (for demo data and tests)."""
    first7 = f"{serial:07d}"
    return first7 + str(edrpou_check_digit(first7))


_RNOKPP_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)


def rnokpp_check_digit(first9: str) -> int:
    """The tenth digit of an RNOKPP (individual taxpayer number)."""
    return sum(int(c) * w for c, w in zip(first9, _RNOKPP_WEIGHTS, strict=True)) % 11 % 10


def is_valid_rnokpp(code: str) -> bool:
    """Ten digits whose last is the check digit of the first nine."""
    return (
        len(code) == 10
        and code.isascii()
        and code.isdigit()
        and (rnokpp_check_digit(code[:9]) == int(code[9]))
    )


def make_rnokpp(serial: int) -> str:
    """A valid RNOKPP from a nine-digit serial (for demo data and tests)."""
    first9 = f"{serial:09d}"
    return first9 + str(rnokpp_check_digit(first9))
