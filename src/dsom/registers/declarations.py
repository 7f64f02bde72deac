"""The six registers of the "Registers" information system, declared once each.

Adding a register is a declaration here and a migration; everything else follows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsom.auth.permissions import Permission
from dsom.registers.declare import Register
from dsom.registers.fields import (
    DOMAIN,
    EMAIL,
    PHONE,
    Choice,
    Day,
    Edrpou,
    Field,
    FieldError,
    Ref,
    Rnokpp,
    Text,
)

# The five types of gambling: a licence's activity and a bet's `game_type`.
ACTIVITIES = ("casino_establishment", "online_casino", "bookmaking", "slot_hall", "online_poker")
# Activities carried on in gambling establishments (land-based channels).
LAND_BASED = frozenset({"casino_establishment", "slot_hall", "bookmaking"})
# Activities carried on over websites and mobile apps (online channels).
ONLINE = frozenset({"online_casino", "online_poker", "bookmaking"})
# The establishment kind each land-based activity is carried on in.
ESTABLISHMENT_KIND_OF = {
    "casino_establishment": "casino",
    "slot_hall": "slot_hall",
    "bookmaking": "bookmaker_point",
}
# The gaming equipment each kind of establishment may hold.
EQUIPMENT_ALLOWED_IN = {
    "casino": ("slot_machine", "roulette", "card_table", "dice_table", "terminal", "other"),
    "slot_hall": ("slot_machine", "terminal"),
    "bookmaker_point": ("terminal",),
}
CHANNEL_STATUSES = ("active", "inactive")
CHANNEL_TRANSITIONS = {"active": ("inactive",), "inactive": ("active",)}

LABELS: dict[str, tuple[str, str]] = {
    "casino_establishment": ("Казино в гральному закладі", "Casino in an establishment"),
    "online_casino": ("Онлайн-казино", "Online casino"),
    "bookmaking": ("Букмекерська діяльність", "Bookmaking"),
    "slot_hall": ("Зал гральних автоматів", "Slot-machine hall"),
    "online_poker": ("Онлайн-покер", "Online poker"),
    "pending": ("Очікує реєстрації", "Pending"),
    "active": ("Діє", "Active"),
    "suspended": ("Зупинено", "Suspended"),
    "revoked": ("Анульовано", "Revoked"),
    "expired": ("Закінчився строк", "Expired"),
    "inactive": ("Не діє", "Inactive"),
    "casino": ("Казино", "Casino"),
    "bookmaker_point": ("Букмекерський пункт", "Bookmaker's point"),
    "slot_machine": ("Гральний автомат", "Slot machine"),
    "roulette": ("Рулетка", "Roulette"),
    "card_table": ("Картковий стіл", "Card table"),
    "dice_table": ("Стіл для гри в кості", "Dice table"),
    "terminal": ("Термінал", "Terminal"),
    "other": ("Інше", "Other"),
    "android": ("Android", "Android"),
    "ios": ("iOS", "iOS"),
}

Refs = Mapping[str, Mapping[str, Any] | None]


def _organizer_field() -> Field:
    return Field(
        "organizer",
        Ref("organizers", same_organizer=False, max_length=8),
        "Організатор (ЄДРПОУ)",
        "Organizer (EDRPOU)",
        editable=False,
        filterable=True,
    )


def _licence_field() -> Field:
    return Field("licence", Ref("licences"), "Ліцензія", "Licence", filterable=True)


def licence_dates_ordered(values: Mapping[str, Any], _refs: Refs) -> Iterator[FieldError]:
    """A licence ends on or after the day it starts."""
    start, end = values.get("valid_from"), values.get("valid_to")
    if start and end and end < start:
        yield FieldError("valid_to", f"must not be before valid_from ({start.isoformat()})")


def establishment_licence_is_land_based(
    values: Mapping[str, Any], refs: Refs
) -> Iterator[FieldError]:
    """An establishment rests on a land-based licence of the matching activity."""
    licence = refs.get("licence")
    if licence is None:
        return
    activity = licence["activity"]
    if activity not in LAND_BASED:
        yield FieldError(
            "licence",
            f"licence {licence['number']} is for {activity}, "
            "an online activity: an establishment needs a land-based licence",
        )
    elif values.get("kind") and ESTABLISHMENT_KIND_OF[activity] != values["kind"]:
        yield FieldError(
            "kind",
            f"licence {licence['number']} ({activity}) is carried on in a "
            f"{ESTABLISHMENT_KIND_OF[activity]}, not a {values['kind']}",
        )


def equipment_fits_establishment(values: Mapping[str, Any], refs: Refs) -> Iterator[FieldError]:
    """Gaming equipment is of a kind its establishment may hold."""
    establishment = refs.get("establishment")
    if establishment is None or not values.get("kind"):
        return
    allowed = EQUIPMENT_ALLOWED_IN[establishment["kind"]]
    if values["kind"] not in allowed:
        yield FieldError("kind", f"a {establishment['kind']} may hold only {', '.join(allowed)}")


def licence_is_online(_values: Mapping[str, Any], refs: Refs) -> Iterator[FieldError]:
    """Websites and apps rest on an online licence."""
    licence = refs.get("licence")
    if licence is not None and licence["activity"] not in ONLINE:
        yield FieldError(
            "licence",
            f"licence {licence['number']} is for {licence['activity']}, "
            "a land-based activity: a website or app needs an online licence",
        )


ORGANIZERS = Register(
    name="organizers",
    entry="organizer",
    title_uk="Організатори азартних ігор",
    title_en="Gambling organizers",
    key="edrpou",
    organizer_field="edrpou",
    fields=(
        Field("edrpou", Edrpou(), "Код ЄДРПОУ", "EDRPOU code", editable=False, searchable=True),
        Field("name", Text(max_length=300), "Найменування", "Legal name", searchable=True),
        Field(
            "head_rnokpp",
            Rnokpp(),
            "РНОКПП керівника",
            "Head's RNOKPP",
            help_en="the person who may register the organizer with DSOM",
            searchable=True,
        ),
        Field("head_name", Text(max_length=200), "ПІБ керівника", "Head's name", required=False),
        Field("address", Text(max_length=500), "Адреса", "Address", required=False),
        Field("email", EMAIL, "Ел. пошта", "E-mail", required=False),
        Field("phone", PHONE, "Телефон", "Phone", required=False),
    ),
    statuses=("pending", "active", "suspended"),
    initial_status="pending",
    transitions={
        "pending": ("active", "suspended"),
        "active": ("suspended",),
        "suspended": ("active",),
    },
    status_permission=Permission.ORGANIZERS_STATUS,
    labels=LABELS,
)

LICENCES = Register(
    name="licences",
    entry="licence",
    title_uk="Ліцензії",
    title_en="Licences",
    key="number",
    organizer_field="organizer",
    fields=(
        Field(
            "number",
            Text(
                max_length=64,
                pattern=r"[A-Za-z0-9][A-Za-z0-9./_-]{0,63}",
                pattern_hint="letters, digits and . / _ - (up to 64)",
            ),
            "Номер ліцензії",
            "Licence number",
            editable=False,
            searchable=True,
        ),
        _organizer_field(),
        Field(
            "activity",
            Choice(ACTIVITIES),
            "Вид діяльності",
            "Activity",
            filterable=True,
            editable=False,  # another activity is another licence: channels rest on this one
        ),
        Field("valid_from", Day(), "Діє з", "Valid from"),
        Field("valid_to", Day(), "Діє до", "Valid to", help_en="the last day of validity"),
        Field(
            "decision",
            Text(max_length=200),
            "Рішення про видачу",
            "Licensing decision",
            searchable=True,
        ),
    ),
    statuses=("active", "suspended", "revoked", "expired"),
    initial_status="active",
    transitions={
        "active": ("suspended", "revoked", "expired"),
        "suspended": ("active", "revoked", "expired"),
    },
    checks=(licence_dates_ordered,),
    labels=LABELS,
)

ESTABLISHMENTS = Register(
    name="establishments",
    entry="gambling establishment",
    title_uk="Гральні заклади",
    title_en="Gambling establishments",
    key="id",
    key_prefix="EST",
    organizer_field="organizer",
    fields=(
        Field("id", Text(max_length=32), "Ідентифікатор", "Id", editable=False, searchable=True),
        _organizer_field(),
        _licence_field(),
        Field(
            "kind",
            Choice(tuple(ESTABLISHMENT_KIND_OF.values())),
            "Вид закладу",
            "Kind",
            filterable=True,
        ),
        Field("name", Text(max_length=200), "Назва", "Name", required=False, searchable=True),
        Field("address", Text(max_length=500), "Адреса", "Address", searchable=True),
    ),
    statuses=CHANNEL_STATUSES,
    initial_status="active",
    transitions=CHANNEL_TRANSITIONS,
    checks=(establishment_licence_is_land_based,),
    channel_kind="establishment",
    labels=LABELS,
)

EQUIPMENT = Register(
    name="equipment",
    entry="piece of gaming equipment",
    title_uk="Гральне обладнання",
    title_en="Gaming equipment",
    key="id",
    key_prefix="EQP",
    organizer_field="organizer",
    fields=(
        Field("id", Text(max_length=32), "Ідентифікатор", "Id", editable=False, searchable=True),
        _organizer_field(),
        Field(
            "establishment",
            Ref("establishments"),
            "Гральний заклад",
            "Establishment",
            filterable=True,
        ),
        Field(
            "kind",
            Choice(EQUIPMENT_ALLOWED_IN["casino"]),
            "Вид обладнання",
            "Kind",
            filterable=True,
        ),
        Field("manufacturer", Text(max_length=100), "Виробник", "Manufacturer", searchable=True),
        Field("model", Text(max_length=100), "Модель", "Model"),
        Field(
            "serial_number",
            Text(max_length=100),
            "Серійний номер",
            "Serial number",
            searchable=True,
        ),
        Field(
            "certificate",
            Text(max_length=100),
            "Сертифікат відповідності",
            "Conformity certificate",
            searchable=True,
        ),
    ),
    statuses=CHANNEL_STATUSES,
    initial_status="active",
    transitions=CHANNEL_TRANSITIONS,
    checks=(equipment_fits_establishment,),
    unique=(("manufacturer", "serial_number"),),
    channel_kind="equipment",
    labels=LABELS,
)

WEBSITES = Register(
    name="websites",
    entry="website",
    title_uk="Веб-сайти",
    title_en="Websites",
    key="id",
    key_prefix="WEB",
    organizer_field="organizer",
    fields=(
        Field("id", Text(max_length=32), "Ідентифікатор", "Id", editable=False, searchable=True),
        _organizer_field(),
        _licence_field(),
        Field("domain", DOMAIN, "Домен", "Domain", searchable=True),
    ),
    statuses=CHANNEL_STATUSES,
    initial_status="active",
    transitions=CHANNEL_TRANSITIONS,
    checks=(licence_is_online,),
    unique=(("domain",),),
    channel_kind="website",
    labels=LABELS,
)

MOBILE_APPS = Register(
    name="mobile_apps",
    entry="mobile application",
    title_uk="Мобільні застосунки",
    title_en="Mobile applications",
    key="id",
    key_prefix="APP",
    organizer_field="organizer",
    fields=(
        Field("id", Text(max_length=32), "Ідентифікатор", "Id", editable=False, searchable=True),
        _organizer_field(),
        _licence_field(),
        Field("platform", Choice(("android", "ios")), "Платформа", "Platform", filterable=True),
        Field(
            "store_id",
            Text(
                max_length=200,
                pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*",
                pattern_hint="a store identifier such as ua.example.casino",
            ),
            "Ідентифікатор у магазині",
            "Store id",
            searchable=True,
        ),
        Field("name", Text(max_length=200), "Назва", "Name", required=False, searchable=True),
    ),
    statuses=CHANNEL_STATUSES,
    initial_status="active",
    transitions=CHANNEL_TRANSITIONS,
    checks=(licence_is_online,),
    unique=(("platform", "store_id"),),
    channel_kind="mobile_app",
    labels=LABELS,
)

# In dependency order: an entry refers only to registers before it.
REGISTERS: dict[str, Register] = {
    r.name: r for r in (ORGANIZERS, LICENCES, ESTABLISHMENTS, EQUIPMENT, WEBSITES, MOBILE_APPS)
}
CHANNEL_REGISTERS: dict[str, Register] = {
    r.channel_kind: r for r in REGISTERS.values() if r.channel_kind
}
