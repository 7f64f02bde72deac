"""CSV and XLSX exports agree with the JSON answer, cell by cell, for every report (both
databases, over HTTP)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from dsom.reports.declarations import REPORTS as DECLARED
from tests.ingest.helpers import new_market
from tests.reports.helpers import REPORTS, get
from tests.reports.test_access import _trade

PARAMS = [{}, {"granularity": "hour"}]


@pytest.fixture
def traded(http: httpx.Client, db: Engine) -> None:
    """Two organizers' operations: every report has rows."""
    _trade(http, new_market(db), 1_000_000)
    _trade(http, new_market(db), 2_500_001)


@pytest.mark.parametrize("report", sorted(DECLARED))
def test_csv_and_xlsx_hold_what_json_holds(
    http: httpx.Client, regulator: dict[str, str], traded: None, report: str
) -> None:
    for params in PARAMS if "granularity" in DECLARED[report].filters else [{}]:
        data = get(http, regulator, report, **params)
        assert data["rows"], report

        answer = http.get(
            f"{REPORTS}/{report}", headers=regulator, params={**params, "format": "csv"}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.headers["content-disposition"].startswith(f'attachment; filename="{report}_')
        header, *rows = list(csv.reader(io.StringIO(answer.text)))
        assert header == data["columns"]
        assert rows == [["" if v is None else str(v) for v in row] for row in data["rows"]]

        answer = http.get(
            f"{REPORTS}/{report}", headers=regulator, params={**params, "format": "xlsx"}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = load_workbook(io.BytesIO(answer.content), read_only=True)[report]
        header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert header == data["columns"]
        width = len(header)  # a row's trailing empty cells (nulls) are not stored
        assert [row + [None] * (width - len(row)) for row in cells] == data["rows"]


def test_an_unknown_format_is_refused(http: httpx.Client, regulator: dict[str, str]) -> None:
    answer = http.get(f"{REPORTS}/ggr", headers=regulator, params={"format": "pdf"})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "invalid_parameter",
        "message": "format: must be json, csv or xlsx",
        "field": "format",
    }


def test_openapi_documents_every_report_its_columns_and_parameters(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "get" in paths[REPORTS]
    for report in DECLARED.values():
        operation = paths[f"{REPORTS}/{report.id}"]["get"]
        assert operation["summary"] == report.title_en
        for column in report.column_ids:
            assert f"`{column}`" in operation["description"], (report.id, column)
        names = [p["name"] for p in operation["parameters"]]
        assert names == [*report.filters, "format"], report.id
