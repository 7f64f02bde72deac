"""What a report's chart needs, as JSON for static/dsom-charts.js (Apache ECharts).

The page embeds the report's own JSON shape (`{"report", "columns", "rows"}`) cut down
to the columns its `Chart` hint plots, with the rows summed over the keys the chart
does not show (the regulator's GGR by day and activity adds up every organizer), and
what the script cannot know: each column's kind and label, the human words for key
values (activities, codes, statuses, organizers' names) and, for a chart over periods,
every period of the range, so that a day with nothing in it is drawn as zero rather
than skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsom.kit.time import KYIV
from dsom.registers.declarations import LABELS
from dsom.reports.declarations import (
    REJECTION_CODE_LABELS,
    SUBMISSION_STATUSES,
    Chart,
    Column,
    Kind,
)
from dsom.reports.periods import bucket_end, bucket_of_hour, label
from dsom.reports.service import Table

NUMERIC = frozenset(
    {Kind.COUNT, Kind.MONEY, Kind.PERCENT, Kind.BYTES, Kind.MILLISECONDS, Kind.SECONDS}
)
MAX_PERIODS = 5_000  # beyond this the chart draws only the periods that have figures


def value_label(column: Column, value: Any, lang: str, names: Mapping[str, str]) -> str | None:
    """The human words for a key value: an activity, a status, a rejection code or an
    organizer's name; None when the value is its own label."""
    uk = lang == "uk"
    words: tuple[str, str] | None = None
    if column.kind is Kind.ACTIVITY:
        words = LABELS.get(value)
    elif column.kind is Kind.STATUS:
        words = SUBMISSION_STATUSES.get(value) or LABELS.get(value)
    elif column.kind is Kind.CODE:
        words = REJECTION_CODE_LABELS.get(value)
    elif column.kind is Kind.ORGANIZER:
        return names.get(value)
    if words is None:
        return None
    return words[0] if uk else words[1]


def period_text(period: str, granularity: str, lang: str, *, short: bool = False) -> str:
    """A period's local start as people read it: `2026-11-24`, `2026-11-24 14:00`, or the
    month; `short` for a chart's axis (`24.11`, `24.11 14:00`, `11.2026`)."""
    start = datetime.fromisoformat(period).astimezone(KYIV)
    if granularity == "month":
        if short:
            return start.strftime("%m.%Y")
        return f"{MONTHS[lang][start.month - 1]} {start.year}"
    if granularity == "hour":
        text = start.strftime("%d.%m %H:%M" if short else "%Y-%m-%d %H:%M")
        if _repeated(start):  # the hour Kyiv lives twice, when summer time ends
            text += f" (UTC{start.strftime('%z')[:3]})"
        return text
    return start.strftime("%d.%m" if short else "%Y-%m-%d")


def _repeated(local: datetime) -> bool:
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


MONTHS = {
    "uk": (
        "січень",
        "лютий",
        "березень",
        "квітень",
        "травень",
        "червень",
        "липень",
        "серпень",
        "вересень",
        "жовтень",
        "листопад",
        "грудень",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def kind_of(table: Table, column: str) -> Kind:
    """The kind of one of a table's columns."""
    return next(c.kind for c in table.report.columns if c.id == column)


def periods_of(table: Table) -> list[str]:
    """Every period of the table's range, in order (the `period` labels of its buckets)."""
    q = table.query
    found: list[str] = []
    bucket = bucket_of_hour(q.start_hour, q.granularity)
    while bucket < q.end_hour and len(found) < MAX_PERIODS:
        found.append(label(bucket))
        bucket = bucket_end(bucket, q.granularity)
    return found


def chart_data(
    table: Table,
    lang: str,
    names: Mapping[str, str],
    *,
    chart: Chart | None = None,
    title: str | None = None,
) -> dict[str, Any] | None:
    """The chart of `table` as dsom-charts.js reads it (the report's hint unless `chart`
    is given); None when the report has no chart or nothing to draw."""
    chart = chart or table.report.chart
    if chart is None or not table.rows:
        return None
    plotted = [table.columns.index(y) for y in chart.y]
    if kind_of(table, chart.y[0]) in NUMERIC and not any(
        row[i] for row in table.rows for i in plotted
    ):
        return None  # every figure it would draw is zero: the table says so better
    by_id = {c.id: c for c in table.report.columns}
    ids = table.columns
    shown = [chart.x, *([chart.series] if chart.series else []), *chart.y]
    at = [ids.index(c) for c in shown]
    keys = 2 if chart.series else 1
    rows: list[list[Any]]
    if all(by_id[y].kind in NUMERIC for y in chart.y):
        sums: dict[tuple[Any, ...], list[Any]] = {}
        for row in table.rows:
            picked = [row[i] for i in at]
            key = tuple(picked[:keys])
            held = sums.get(key)
            if held is None:
                sums[key] = picked[keys:]
                continue
            for n, value in enumerate(picked[keys:]):
                if value is not None:
                    held[n] = value if held[n] is None else held[n] + value
        rows = [[*key, *values] for key, values in sums.items()]
    else:
        rows = [[row[i] for i in at] for row in table.rows]
    data: dict[str, Any] = {
        "report": table.report.id,
        "columns": shown,
        "rows": rows,
        "chart": {"kind": chart.kind, "x": chart.x, "y": list(chart.y), "series": chart.series},
        "kinds": {c: by_id[c].kind.value for c in shown},
        "labels": {c: by_id[c].label(lang) for c in shown},
        "values": {},
        "lang": lang,
        "currency": "грн" if lang == "uk" else "UAH",
        "title": title or table.report.title(lang),
    }
    for i, column in enumerate(shown[:keys]):
        words = {}
        for row in rows:
            found = value_label(by_id[column], row[i], lang, names)
            if found is not None:
                words[row[i]] = found
        data["values"][column] = words
    x = by_id[chart.x]
    if x.kind is Kind.INSTANT:
        q = table.query
        data["range"] = [q.start.astimezone(KYIV).isoformat(), q.end.astimezone(KYIV).isoformat()]
    if x.kind is Kind.PERIOD:
        categories = periods_of(table)
        if len(categories) >= MAX_PERIODS:
            categories = sorted({row[0] for row in rows})
        g = table.query.granularity
        data["categories"] = categories
        data["values"][chart.x] = {p: period_text(p, g, lang, short=True) for p in categories}
    return data
