"""A report's rows as CSV and as an XLSX workbook: a header row of the column ids, then
the rows as JSON has them (money in kopiyky, integers; an empty cell for null)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from dsom.reports.service import Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    return "" if value is None else value


def to_csv(table: Table) -> str:
    """The report as CSV (RFC 4180, `\\r\\n` line ends) with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


def to_xlsx(table: Table) -> bytes:
    """The report as an XLSX workbook of one sheet named after it, with a header row."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.report.id[:31])
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([None if v is None else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(table: Table, extension: str) -> str:
    """`<report>_<from>_<to>.<ext>`, the range as UTC instants."""
    q = table.query
    start = q.start.strftime("%Y%m%dT%H%MZ")
    end = q.end.strftime("%Y%m%dT%H%MZ")
    return f"{table.report.id}_{start}_{end}.{extension}"
