"""The twelve reports of reports.md, declared once each: what a page, the API, the CSV and
XLSX exports and the OpenAPI document need to know about them.

A declaration is data only; its query is `service.QUERIES[report.id]`. Who may see a
report is the permissions that grant it (the role → permission map is
`auth/permissions.py`): `REPORTS_ALL` (regulator) sees all twelve, `REPORTS_FINANCIAL`
(tax service) five, `REPORTS_OWN` (an organizer's people) eight, scoped to its own data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from dsom.auth.permissions import Permission

P = Permission
Group = Literal["operational", "regulatory", "analytical", "financial"]

GROUPS: dict[Group, tuple[str, str]] = {
    "operational": ("Оперативні", "Operational"),
    "regulatory": ("Регуляторні", "Regulatory"),
    "analytical": ("Аналітичні", "Analytical"),
    "financial": ("Фінансові", "Financial"),
}


class Kind(StrEnum):
    """What a column holds, so a page knows how to show it and a chart what to plot."""

    PERIOD = "period"  # a bucket's local start, ISO 8601 with offset
    INSTANT = "instant"  # an instant, ISO 8601 in Kyiv time with offset, microseconds
    ORGANIZER = "organizer"  # an EDRPOU code
    ACTIVITY = "activity"  # a game_type / licence activity
    CODE = "code"  # a rejection code of protocol.md §2.2
    STATUS = "status"  # a status word (licence status, submission status)
    TEXT = "text"  # an identifier or other text
    COUNT = "count"  # a whole number of things
    MONEY = "money"  # kopiyky (integer); pages may show hryvnias
    PERCENT = "percent"  # a percentage with 2 decimals, or null
    BYTES = "bytes"
    MILLISECONDS = "ms"  # may be null
    SECONDS = "s"


@dataclass(frozen=True)
class Column:
    """One column of a report: its id (as in reports.md), kind and labels."""

    id: str
    kind: Kind
    label_uk: str
    label_en: str
    key: bool = False

    @property
    def money(self) -> bool:
        """Whether the column holds kopiyky."""
        return self.kind is Kind.MONEY

    def label(self, lang: str) -> str:
        """The label in `lang` ("uk" or "en")."""
        return self.label_uk if lang == "uk" else self.label_en


@dataclass(frozen=True)
class Chart:
    """What chart suits a report (Apache ECharts on the pages): `kind` of chart, the
    column on the x axis, the value columns plotted, and the key column that makes one
    series each (None: one series per value column)."""

    kind: Literal["line", "bar", "stacked_bar", "pie", "gauge"]
    x: str
    y: tuple[str, ...]
    series: str | None = None


Filter = Literal["from", "to", "granularity", "organizer", "activity", "threshold"]
RANGE: tuple[Filter, ...] = ("from", "to")
PERIODIC: tuple[Filter, ...] = ("from", "to", "granularity")


@dataclass(frozen=True)
class Report:
    """A report: id, group, titles, columns (keys first), who may see it and how."""

    id: str
    group: Group
    title_uk: str
    title_en: str
    about_uk: str
    about_en: str
    columns: tuple[Column, ...]
    granted_by: frozenset[Permission]  # any one of these lets a principal see it
    filters: tuple[Filter, ...]
    chart: Chart | None = None
    live: bool = False  # figures change by the second: a page should refresh them

    @property
    def keys(self) -> tuple[Column, ...]:
        """The key columns, in reports.md's order (the rows are ordered by them)."""
        return tuple(c for c in self.columns if c.key)

    @property
    def column_ids(self) -> list[str]:
        """Every column's id, in order."""
        return [c.id for c in self.columns]

    def title(self, lang: str) -> str:
        """The title in `lang` ("uk" or "en")."""
        return self.title_uk if lang == "uk" else self.title_en

    def about(self, lang: str) -> str:
        """The one-paragraph description in `lang`."""
        return self.about_uk if lang == "uk" else self.about_en


def _key(id_: str, kind: Kind, uk: str, en: str) -> Column:
    return Column(id_, kind, uk, en, key=True)


PERIOD = _key("period", Kind.PERIOD, "Період", "Period")
ORGANIZER = _key("organizer", Kind.ORGANIZER, "Організатор (ЄДРПОУ)", "Organizer (EDRPOU)")
ACTIVITY = _key("activity", Kind.ACTIVITY, "Вид азартних ігор", "Type of gambling")
C, M = Kind.COUNT, Kind.MONEY

ALL, FINANCIAL, OWN = P.REPORTS_ALL, P.REPORTS_FINANCIAL, P.REPORTS_OWN

REPORT_LIST: tuple[Report, ...] = (
    Report(
        id="system-status",
        group="operational",
        title_uk="Стан системи",
        title_en="System status",
        about_uk="Чи отримує ДСОМ дані: скільки операцій прийнято й відхилено за останню "
        "хвилину й годину, як швидко їх приймають, скільки організаторів надсилають дані.",
        about_en="Whether DSOM is receiving data: operations accepted and rejected in the "
        "last minute and hour, how fast they are taken in, how many organizers report.",
        columns=(
            Column("accepted_last_minute", C, "Прийнято за хвилину", "Accepted, last minute"),
            Column("accepted_last_hour", C, "Прийнято за годину", "Accepted, last hour"),
            Column("accepted_total", C, "Прийнято всього", "Accepted, total"),
            Column("rejected_last_hour", C, "Відхилено за годину", "Rejected, last hour"),
            Column("ingest_p50_ms", Kind.MILLISECONDS, "Прийом, медіана, мс", "Ingest p50, ms"),
            Column("ingest_p99_ms", Kind.MILLISECONDS, "Прийом, p99, мс", "Ingest p99, ms"),
            Column(
                "organizers_reporting_last_hour",
                C,
                "Організаторів надсилали за годину",
                "Organizers reporting, last hour",
            ),
            Column("database_bytes", Kind.BYTES, "Розмір бази даних", "Database size"),
            Column("uptime_s", Kind.SECONDS, "Час роботи, с", "Uptime, s"),
            Column("version", Kind.TEXT, "Версія", "Version"),
        ),
        granted_by=frozenset({ALL}),
        filters=(),
        chart=Chart("gauge", x="accepted_last_minute", y=("accepted_last_minute",)),
        live=True,
    ),
    Report(
        id="submission-health",
        group="operational",
        title_uk="Стан передавання даних",
        title_en="Submission health",
        about_uk="Для кожного організатора: коли надійшли останні дані, скільки прийнято й "
        "відхилено сьогодні, чи передає він дані нормально, мовчить чи з помилками.",
        about_en="For each organizer: when its data last arrived, what was accepted and "
        "rejected today, and whether it sends normally, is silent, or degraded.",
        columns=(
            ORGANIZER,
            Column("last_received_at", Kind.INSTANT, "Останнє надходження", "Last received"),
            Column("accepted_last_hour", C, "Прийнято за годину", "Accepted, last hour"),
            Column("accepted_today", C, "Прийнято сьогодні", "Accepted today"),
            Column("rejected_today", C, "Відхилено сьогодні", "Rejected today"),
            Column("status", Kind.STATUS, "Стан", "Status"),
        ),
        granted_by=frozenset({ALL, OWN}),
        filters=("organizer",),
        chart=Chart("pie", x="status", y=("organizer",)),
        live=True,
    ),
    Report(
        id="rejections",
        group="operational",
        title_uk="Відхилені операції",
        title_en="Rejections",
        about_uk="Відхилені операції за періодом (часом надходження), організатором і кодом.",
        about_en="Rejected operations by period (of receipt), organizer and rejection code.",
        columns=(
            PERIOD,
            ORGANIZER,
            _key("code", Kind.CODE, "Код відхилення", "Rejection code"),
            Column("count", C, "Кількість", "Count"),
        ),
        granted_by=frozenset({ALL, OWN}),
        filters=(*PERIODIC, "organizer"),
        chart=Chart("stacked_bar", x="period", y=("count",), series="code"),
    ),
    Report(
        id="licenses",
        group="regulatory",
        title_uk="Ліцензії",
        title_en="Licences",
        about_uk="Ліцензії за видом діяльності й статусом на кінець періоду, і ті, строк "
        "дії яких спливає протягом 90 днів.",
        about_en="Licences by activity and status at the end of the range, and the active "
        "ones whose validity ends within 90 days of it.",
        columns=(
            ACTIVITY,
            _key("status", Kind.STATUS, "Статус", "Status"),
            Column("count", C, "Кількість", "Count"),
            Column("expiring_90d", C, "Спливає за 90 днів", "Expiring within 90 days"),
        ),
        granted_by=frozenset({ALL}),
        filters=("to", "organizer", "activity"),
        chart=Chart("stacked_bar", x="activity", y=("count",), series="status"),
    ),
    Report(
        id="compliance",
        group="regulatory",
        title_uk="Дотримання вимог",
        title_en="Compliance",
        about_uk="Для кожного організатора: операції, надіслані із запізненням, відхилені "
        "через ліцензію чи канал, і години без даних за чинної онлайн-ліцензії.",
        about_en="For each organizer: operations sent late, operations rejected for licence "
        "or channel reasons, and hours without data while an online licence was active.",
        columns=(
            ORGANIZER,
            Column("late_operations", C, "Із запізненням", "Late operations"),
            Column("rejected_license", C, "Відхилено: ліцензія", "Rejected: licence"),
            Column("rejected_channel", C, "Відхилено: канал", "Rejected: channel"),
            Column("silent_hours", C, "Години без даних", "Silent hours"),
        ),
        granted_by=frozenset({ALL}),
        filters=(*RANGE, "organizer"),
        chart=Chart(
            "stacked_bar",
            x="organizer",
            y=("late_operations", "rejected_license", "rejected_channel"),
        ),
    ),
    Report(
        id="large-wins",
        group="regulatory",
        title_uk="Великі виграші",
        title_en="Large wins",
        about_uk="Виграші від порогу (типово 50 000 грн), з їхньою ставкою і гравцем.",
        about_en="Wins at or above the threshold (50,000 UAH unless told), with their bet "
        "and player.",
        columns=(
            _key("occurred_at", Kind.INSTANT, "Час", "Occurred at"),
            ORGANIZER,
            _key("operation_id", Kind.TEXT, "Ідентифікатор операції", "Operation id"),
            Column("license", Kind.TEXT, "Ліцензія", "Licence"),
            Column("activity", Kind.ACTIVITY, "Вид азартних ігор", "Type of gambling"),
            Column("bet_id", Kind.TEXT, "Ставка", "Bet"),
            Column("player_id", Kind.TEXT, "Гравець", "Player"),
            Column("amount", M, "Сума виграшу", "Amount"),
        ),
        granted_by=frozenset({ALL, FINANCIAL, OWN}),
        filters=(*RANGE, "organizer", "activity", "threshold"),
        chart=Chart("bar", x="occurred_at", y=("amount",), series="activity"),
    ),
    Report(
        id="market-volumes",
        group="analytical",
        title_uk="Обсяги ринку",
        title_en="Market volumes",
        about_uk="Ставки, виграші й повернення (кількість і суми) за періодом і видом ігор.",
        about_en="Bets, wins and refunds (counts and sums) by period and type of gambling.",
        columns=(
            PERIOD,
            ACTIVITY,
            Column("bets", C, "Ставок", "Bets"),
            Column("stakes", M, "Сума ставок", "Stakes"),
            Column("wins", C, "Виграшів", "Wins"),
            Column("payouts", M, "Сума виграшів", "Payouts"),
            Column("refunds", C, "Повернень", "Refunds"),
            Column("refunded", M, "Сума повернень", "Refunded"),
        ),
        granted_by=frozenset({ALL, FINANCIAL, OWN}),
        filters=(*PERIODIC, "organizer", "activity"),
        chart=Chart("line", x="period", y=("stakes", "payouts"), series="activity"),
    ),
    Report(
        id="player-activity",
        group="analytical",
        title_uk="Активність гравців",
        title_en="Player activity",
        about_uk="Активні гравці (з хоча б однією ставкою), їхні ставки й середня сума "
        "ставок на гравця.",
        about_en="Active players (with at least one bet), their bets and stakes, and the "
        "average stake per player.",
        columns=(
            PERIOD,
            ACTIVITY,
            Column("active_players", C, "Активних гравців", "Active players"),
            Column("bets", C, "Ставок", "Bets"),
            Column("stakes", M, "Сума ставок", "Stakes"),
            Column(
                "avg_stake_per_player",
                M,
                "Середня сума ставок на гравця",
                "Average stake per player",
            ),
        ),
        granted_by=frozenset({ALL, OWN}),
        filters=(*PERIODIC, "organizer", "activity"),
        chart=Chart("line", x="period", y=("active_players",), series="activity"),
    ),
    Report(
        id="market-share",
        group="analytical",
        title_uk="Частки ринку",
        title_en="Market share",
        about_uk="Частка кожного організатора у ставках і валовому ігровому доході "
        "кожного виду ігор за період.",
        about_en="Each organizer's share of the stakes and of the gross gaming revenue of "
        "each type of gambling over the range.",
        columns=(
            ACTIVITY,
            ORGANIZER,
            Column("stakes", M, "Сума ставок", "Stakes"),
            Column("ggr", M, "Валовий дохід", "GGR"),
            Column("stakes_share_pct", Kind.PERCENT, "Частка ставок, %", "Share of stakes, %"),
            Column("ggr_share_pct", Kind.PERCENT, "Частка доходу, %", "Share of GGR, %"),
        ),
        granted_by=frozenset({ALL}),
        filters=(*RANGE, "organizer", "activity"),
        chart=Chart("bar", x="organizer", y=("stakes_share_pct",), series="activity"),
    ),
    Report(
        id="ggr",
        group="financial",
        title_uk="Валовий ігровий дохід",
        title_en="Gross gaming revenue",
        about_uk="Ставки мінус повернення й виграші, за періодом, організатором і видом ігор.",
        about_en="Stakes less refunds and payouts, by period, organizer and type of gambling.",
        columns=(
            PERIOD,
            ORGANIZER,
            ACTIVITY,
            Column("stakes", M, "Сума ставок", "Stakes"),
            Column("refunded", M, "Сума повернень", "Refunded"),
            Column("payouts", M, "Сума виграшів", "Payouts"),
            Column("ggr", M, "Валовий дохід", "GGR"),
        ),
        granted_by=frozenset({ALL, FINANCIAL, OWN}),
        filters=(*PERIODIC, "organizer", "activity"),
        chart=Chart("line", x="period", y=("ggr",), series="activity"),
    ),
    Report(
        id="payments",
        group="financial",
        title_uk="Платежі",
        title_en="Payments",
        about_uk="Поповнення й виведення коштів гравців, за періодом і організатором.",
        about_en="Players' deposits and withdrawals, by period and organizer.",
        columns=(
            PERIOD,
            ORGANIZER,
            Column("deposits", C, "Поповнень", "Deposits"),
            Column("deposited", M, "Сума поповнень", "Deposited"),
            Column("withdrawals", C, "Виведень", "Withdrawals"),
            Column("withdrawn", M, "Сума виведень", "Withdrawn"),
            Column("net", M, "Сальдо", "Net"),
        ),
        granted_by=frozenset({ALL, FINANCIAL, OWN}),
        filters=(*PERIODIC, "organizer", "activity"),
        chart=Chart("bar", x="period", y=("deposited", "withdrawn")),
    ),
    Report(
        id="winnings-tax",
        group="financial",
        title_uk="Податок з виграшів",
        title_en="Tax on winnings",
        about_uk="Податок на доходи фізичних осіб і військовий збір, які організатори мають "
        "утримати з виграшів.",
        about_en="Personal income tax and military levy that organizers must withhold from "
        "winnings.",
        columns=(
            PERIOD,
            ORGANIZER,
            Column("wins", C, "Виграшів", "Wins"),
            Column("payouts", M, "Сума виграшів", "Payouts"),
            Column("personal_income_tax", M, "ПДФО", "Personal income tax"),
            Column("military_levy", M, "Військовий збір", "Military levy"),
            Column("tax_total", M, "Усього податків", "Tax total"),
        ),
        granted_by=frozenset({ALL, FINANCIAL, OWN}),
        filters=(*PERIODIC, "organizer", "activity"),
        chart=Chart("stacked_bar", x="period", y=("personal_income_tax", "military_levy")),
    ),
)
REPORTS: dict[str, Report] = {r.id: r for r in REPORT_LIST}

# Labels of the values that key columns take, for pages (activities and licence
# statuses: registers.declarations.LABELS).
SUBMISSION_STATUSES: dict[str, tuple[str, str]] = {
    "ok": ("Норма", "OK"),
    "silent": ("Мовчить", "Silent"),
    "degraded": ("З помилками", "Degraded"),
}
REJECTION_CODE_LABELS: dict[str, tuple[str, str]] = {
    "schema_violation": ("Порушення схеми", "Schema violation"),
    "unsupported_currency": ("Непідтримувана валюта", "Unsupported currency"),
    "occurred_in_future": ("Час у майбутньому", "Occurred in the future"),
    "reporting_window_closed": ("Вікно звітування закрито", "Reporting window closed"),
    "unknown_license": ("Невідома ліцензія", "Unknown licence"),
    "license_inactive": ("Ліцензія не діє", "Licence inactive"),
    "game_type_not_licensed": ("Вид гри не ліцензовано", "Game type not licensed"),
    "unknown_channel": ("Невідомий канал", "Unknown channel"),
    "channel_inactive": ("Канал не діє", "Channel inactive"),
    "unknown_bet": ("Невідома ставка", "Unknown bet"),
    "bet_mismatch": ("Невідповідність ставці", "Bet mismatch"),
    "refund_exceeds_stake": ("Повернення більше ставки", "Refund exceeds stake"),
    "duplicate_conflict": ("Конфлікт ідентифікатора", "Duplicate conflict"),
}


def granted(report: Report, permissions: frozenset[Permission]) -> bool:
    """Whether holding `permissions` lets one see `report`."""
    return bool(report.granted_by & permissions)


def own_only(report: Report, permissions: frozenset[Permission]) -> bool:
    """Whether `report` is seen only through REPORTS_OWN: scoped to one's organizer."""
    return not (report.granted_by - {OWN}) & permissions
