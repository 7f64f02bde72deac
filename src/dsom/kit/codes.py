"""Ukrainian state identifiers: EDRPOU (companies) and RNOKPP (people), with check digits."""

from __future__ import annotations


def _edrpou_control(first7: str, weights: tuple[int, ...]) -> int:
    digits = [int(c) for c in first7]
    control = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    if control >= 10:
        control = sum(d * (w + 2) for d, w in zip(digits, weights, strict=True)) % 11
        if control >= 10:
            control = 0
    return control


def is_valid_edrpou(code: str) -> bool:
    """Eight digits whose last is the check digit, by the State Statistics Service's algorithm.

    Codes from 30,000,000 to 60,000,000 (the whole code) weigh their digits 7,1,2,…,6;
    all others 1,2,…,7. A control of 10 is recomputed with each weight plus 2.
    """
    if not (len(code) == 8 and code.isascii() and code.isdigit()):
        return False
    weights = (
        (7, 1, 2, 3, 4, 5, 6) if 30_000_000 <= int(code) <= 60_000_000 else (1, 2, 3, 4, 5, 6, 7)
    )
    return _edrpou_control(code[:7], weights) == int(code[7])


def make_edrpou(serial: int) -> str:
    """A valid EDRPOU code from a seven-digit serial (for demo data and tests)."""
    first7 = f"{serial:07d}"
    for digit in "0123456789":
        if is_valid_edrpou(first7 + digit):
            return first7 + digit
    raise ValueError(f"no valid EDRPOU code starts with {first7}")  # pragma: no cover


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
