"""Tax on winnings (reports.md `winnings-tax`): per win, each tax is the amount times its
rate, rounded half up to a kopiyka. Rates are configuration, each with the date it
applies from; the rate of the day a win occurred applies."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from dsom.ingest.state import day_start_us


@dataclass(frozen=True)
class Rates:
    """Income tax and military levy from one date on (each also as numerator and
    denominator, read once per win: a Fraction's properties cost more than the sum)."""

    since_us: int
    income_tax: Fraction
    military_levy: Fraction

    def __post_init__(self) -> None:
        parts = (
            self.income_tax.numerator,
            2 * self.income_tax.denominator,
            self.military_levy.numerator,
            2 * self.military_levy.denominator,
        )
        object.__setattr__(self, "parts", parts)


def half_up(amount: int, rate: Fraction) -> int:
    """amount × rate rounded half up to a whole kopiyka (amounts are positive)."""
    return (2 * amount * rate.numerator + rate.denominator) // (2 * rate.denominator)


class TaxTable:
    """The configured rates, looked up by the instant a win occurred."""

    def __init__(self, config: str) -> None:
        entries = sorted(json.loads(config), key=lambda e: e["from"])
        if not entries:
            raise ValueError("DSOM_TAX_RATES needs at least one entry")
        self.rates = [
            Rates(
                day_start_us(date.fromisoformat(e["from"])),
                Fraction(Decimal(str(e["income_tax"]))),
                Fraction(Decimal(str(e["military_levy"]))),
            )
            for e in entries
        ]
        self.starts = [r.since_us for r in self.rates]

    def on_win(self, amount: int, occurred_us: int) -> tuple[int, int]:
        """(personal income tax, military levy) to withhold from one win."""
        rates = self.rates[max(bisect.bisect_right(self.starts, occurred_us) - 1, 0)]
        tax_num, tax_den2, levy_num, levy_den2 = rates.parts  # type: ignore[attr-defined]
        # half_up(amount, rate), inlined: (2·a·n + d) // 2d
        return (
            (2 * amount * tax_num + tax_den2 // 2) // tax_den2,
            (2 * amount * levy_num + levy_den2 // 2) // levy_den2,
        )
