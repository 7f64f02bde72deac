"""The reports' API (reports.md): one route per declared report, generated.

GET /api/v1/reports                 the reports the caller may see: [{"id", "group", "title"}]
GET /api/v1/reports/{id}            ?from=&to=&granularity=&organizer=&activity=&threshold=
                                    &format=json|csv|xlsx
                                    → {"report", "columns", "rows"}, or the CSV / XLSX file

Authenticated as an official (`Authorization: Bearer <token>`) or a person (the office
session cookie). The router's lifespan samples the accepted total for system-status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from fastapi import APIRouter, Request, Response

from dsom.auth.deps import DB, Official
from dsom.kit.errors import NotFound
from dsom.reports import service
from dsom.reports.declarations import GROUPS, REPORT_LIST, Kind, Report
from dsom.reports.export import CSV_TYPE, XLSX_TYPE, filename, to_csv, to_xlsx
from dsom.reports.live import live_of, sampling
from dsom.reports.params import InvalidParameter

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], lifespan=sampling)
FORMATS = ("json", "csv", "xlsx")
_encode = msgspec.json.Encoder().encode

PARAMETER_DOCS: dict[str, tuple[str, dict[str, Any]]] = {
    "from": (
        "Start of the range (inclusive): a date (`2026-11-01`, local midnight in Kyiv) or "
        "an RFC 3339 instant on a whole hour. Default: the start of the current month.",
        {"type": "string", "examples": ["2026-11-01", "2026-11-01T10:00:00+02:00"]},
    ),
    "to": (
        "End of the range (exclusive), as `from`. Default: the start of tomorrow.",
        {"type": "string", "examples": ["2026-11-24"]},
    ),
    "granularity": (
        "Bucket of `period`: Kyiv calendar hour, day or month.",
        {"type": "string", "enum": ["hour", "day", "month"], "default": "day"},
    ),
    "organizer": (
        "Only this organizer (EDRPOU code). An organizer's person always sees only its own.",
        {"type": "string", "pattern": "^[0-9]{8}$"},
    ),
    "activity": (
        "Only this type of gambling (a `game_type`).",
        {
            "type": "string",
            "enum": [
                "casino_establishment",
                "online_casino",
                "bookmaking",
                "slot_hall",
                "online_poker",
            ],
        },
    ),
    "threshold": (
        "Smallest win shown, in kopiyky (default 5,000,000 = 50,000 UAH); at least "
        "`DSOM_LARGE_WIN_FLOOR` (1,000,000 unless configured), or 400.",
        {"type": "integer", "default": 5_000_000},
    ),
}
FORMAT_DOC = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "`json` (default), `csv` (header row, kopiyky) or `xlsx`.",
    "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
}
ROLES_OF = {
    "reports:all": "the regulator",
    "reports:financial": "the tax service",
    "reports:own": "an organizer (its own data only)",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "`invalid_parameter`: a parameter the report does not take, or a bad value"
    },
    401: {"description": "no token or session, or an unknown or revoked token"},
    403: {
        "description": "`forbidden`: the report is outside the caller's role, or an "
        "organizer named another organizer"
    },
}


def _lang(request: Request) -> str:
    return "uk" if request.headers.get("accept-language", "").lower().startswith("uk") else "en"


@router.get("", summary="The reports you may see")
def list_reports(request: Request, principal: Official) -> list[dict[str, str]]:
    """Every report the caller's role sees, in reports.md's order (titles in Ukrainian
    with `Accept-Language: uk`)."""
    lang = _lang(request)
    return [
        {"id": r.id, "group": r.group, "title": r.title(lang)} for r in service.visible(principal)
    ]


def _describe(report: Report) -> str:
    lines = [
        report.about_en,
        "",
        f"Group: {GROUPS[report.group][1].lower()}. Seen by "
        + ", ".join(ROLES_OF[p] for p in sorted(report.granted_by))
        + ".",
        "",
        "| column | key | kind | meaning |",
        "|---|---|---|---|",
    ]
    for c in report.columns:
        kind = "kopiyky" if c.kind is Kind.MONEY else c.kind.value
        lines.append(f"| `{c.id}` | {'yes' if c.key else ''} | {kind} | {c.label_en} |")
    lines += [
        "",
        'Answer: `{"report": id, "columns": [...], "rows": [[...], ...]}`, rows '
        "ordered by the key columns; a combination of keys with nothing in it has no row.",
    ]
    return "\n".join(lines)


def _parameters(report: Report) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "query", "required": False, "description": doc, "schema": schema}
        for name, (doc, schema) in PARAMETER_DOCS.items()
        if name in report.filters
    ]
    return [*params, FORMAT_DOC]


def _route(report: Report) -> Callable[..., Response]:
    def get_report(request: Request, principal: Official, engine: DB) -> Response:
        raw = dict(request.query_params)
        fmt = raw.pop("format", None) or "json"
        if fmt not in FORMATS:
            raise InvalidParameter("format: must be json, csv or xlsx", field="format")
        table = service.run(
            engine,
            report.id,
            principal,
            raw,
            settings=request.app.state.settings,
            live=live_of(request.app),
        )
        if fmt == "csv":
            return Response(
                to_csv(table),
                media_type=CSV_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{filename(table, "csv")}"'},
            )
        if fmt == "xlsx":
            return Response(
                to_xlsx(table),
                media_type=XLSX_TYPE,
                headers={
                    "Content-Disposition": f'attachment; filename="{filename(table, "xlsx")}"'
                },
            )
        return Response(_encode(table.as_json()), media_type="application/json")

    get_report.__doc__ = _describe(report)
    return get_report


for _report in REPORT_LIST:
    router.add_api_route(
        f"/{_report.id}",
        _route(_report),
        methods=["GET"],
        summary=_report.title_en,
        name=f"report_{_report.id.replace('-', '_')}",
        response_class=Response,
        responses={
            200: {
                "description": "the report",
                "content": {
                    "application/json": {
                        "example": {
                            "report": _report.id,
                            "columns": _report.column_ids,
                            "rows": [],
                        }
                    },
                    "text/csv": {},
                    XLSX_TYPE: {},
                },
            },
            **ERROR_RESPONSES,
        },
        openapi_extra={"parameters": _parameters(_report)},
    )


@router.get("/{report_id}", include_in_schema=False)
def unknown_report(report_id: str, _principal: Official) -> None:
    """There is no such report: 404."""
    raise NotFound(f"there is no report {report_id!r}; GET /api/v1/reports lists them")
