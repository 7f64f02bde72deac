"""Every rule of the register declarations, good and bad, through the HTTP API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.registers.declarations import EQUIPMENT_ALLOWED_IN, ESTABLISHMENT_KIND_OF
from tests.builders import (
    make_equipment,
    make_establishment,
    make_licence,
    make_organizer,
    make_website,
)
from tests.registers.helpers import (
    Headers,
    app_values,
    count,
    create,
    created,
    days_from_today,
    equipment_values,
    establishment_values,
    field_errors,
    licence_values,
    organizer_values,
    patch,
    set_status,
    url,
    website_values,
)

VALID_EDRPOU = [
    "14360570",  # a real bank's code
    "00032129",  # another
    make_edrpou(3_456_789),  # 30 000 000 to 60 000 000: the other weights
    make_edrpou(1_000_006),  # the first sum gives 10: the second pass
]
WRONG_CHECK_DIGIT = [c[:7] + str((int(c[7]) + 1) % 10) for c in VALID_EDRPOU]
ONLINE_ACTIVITIES = ["online_casino", "online_poker", "bookmaking"]
LAND_ONLY_ACTIVITIES = ["casino_establishment", "slot_hall"]


# --- codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_EDRPOU)
def test_organizer_with_valid_edrpou_is_recorded(
    http: httpx.Client, regulator: Headers, code: str
) -> None:
    entry = created(create(http, regulator, "organizers", organizer_values(code)))
    assert entry["edrpou"] == code
    assert entry["status"] == "pending"
    assert entry["version"] == 1


@pytest.mark.parametrize("code", WRONG_CHECK_DIGIT)
def test_edrpou_with_wrong_check_digit_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, code: str
) -> None:
    errors = field_errors(create(http, regulator, "organizers", organizer_values(code)))
    assert "check digit" in errors["edrpou"]
    assert count(db, "organizers") == 0


@pytest.mark.parametrize("code", ["1436057", "143605700", "1436057A", "１４３６０５７０", ""])
def test_edrpou_that_is_not_eight_ascii_digits_is_rejected(
    http: httpx.Client, regulator: Headers, code: str
) -> None:
    assert "edrpou" in field_errors(create(http, regulator, "organizers", organizer_values(code)))


def test_edrpou_given_as_a_number_is_rejected(http: httpx.Client, regulator: Headers) -> None:
    errors = field_errors(create(http, regulator, "organizers", organizer_values(14360570)))
    assert errors["edrpou"] == "must be text"


@pytest.mark.parametrize("rnokpp", [make_rnokpp(123_456_789), make_rnokpp(300_000_001)])
def test_head_rnokpp_with_valid_check_digit_is_accepted(
    http: httpx.Client, regulator: Headers, rnokpp: str
) -> None:
    values = organizer_values("14360570", head_rnokpp=rnokpp)
    assert created(create(http, regulator, "organizers", values))["head_rnokpp"] == rnokpp


@pytest.mark.parametrize(
    ("rnokpp", "says"),
    [
        ("1234567890", "check digit"),
        ("3000000019", "check digit"),
        ("123456789", "10 digits"),
        ("12345678999", "10 digits"),
        ("12345678a9", "10 digits"),
    ],
)
def test_head_rnokpp_that_is_not_a_valid_rnokpp_is_rejected(
    http: httpx.Client, regulator: Headers, rnokpp: str, says: str
) -> None:
    values = organizer_values("14360570", head_rnokpp=rnokpp)
    assert says in field_errors(create(http, regulator, "organizers", values))["head_rnokpp"]


# --- field types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "info@casino.ua"),
        ("phone", "+380441234567"),
        ("head_name", "Іваненко Іван Іванович"),
        ("address", "м. Київ, вул. Хрещатик, 22"),
    ],
)
def test_optional_contact_fields_take_good_values(
    http: httpx.Client, regulator: Headers, field: str, value: str
) -> None:
    values = organizer_values("14360570", **{field: value})
    assert created(create(http, regulator, "organizers", values))[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "info.casino.ua"),
        ("email", "info@casino"),
        ("phone", "0441234567"),
        ("phone", "+38 044 123 45 67"),
        ("name", "x" * 301),
        ("name", "   "),
    ],
)
def test_fields_reject_values_of_the_wrong_form(
    http: httpx.Client, regulator: Headers, field: str, value: str
) -> None:
    values = organizer_values("14360570", **{field: value})
    assert field in field_errors(create(http, regulator, "organizers", values))


def test_text_is_stored_stripped(http: httpx.Client, regulator: Headers) -> None:
    values = organizer_values("  14360570 ", name="  ТОВ «Гра»  ")
    entry = created(create(http, regulator, "organizers", values))
    assert (entry["edrpou"], entry["name"]) == ("14360570", "ТОВ «Гра»")


@pytest.mark.parametrize("missing", ["edrpou", "name", "head_rnokpp"])
def test_organizer_without_a_required_field_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, missing: str
) -> None:
    values = organizer_values("14360570")
    del values[missing]
    assert field_errors(create(http, regulator, "organizers", values)) == {missing: "is required"}
    assert count(db, "organizers") == 0


def test_required_field_given_as_null_is_rejected(http: httpx.Client, regulator: Headers) -> None:
    values = organizer_values("14360570", name=None)
    assert field_errors(create(http, regulator, "organizers", values)) == {"name": "is required"}


def test_unknown_field_is_rejected(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    values = organizer_values("14360570", nickname="Гра")
    errors = field_errors(create(http, regulator, "organizers", values))
    assert "not a field" in errors["nickname"]
    assert count(db, "organizers") == 0


def test_every_error_of_an_entry_is_reported_at_once(
    http: httpx.Client, regulator: Headers
) -> None:
    values = {"edrpou": "14360571", "head_rnokpp": "1", "extra": "x"}
    assert set(field_errors(create(http, regulator, "organizers", values))) == {
        "edrpou",
        "head_rnokpp",
        "extra",
        "name",
    }


def test_organizer_whose_code_is_already_registered_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    make_organizer(db, code="14360570")
    errors = field_errors(create(http, regulator, "organizers", organizer_values("14360570")))
    assert errors == {"edrpou": "is already in the register"}


@pytest.mark.parametrize(
    ("register", "field", "value"),
    [
        ("licences", "activity", "lottery"),
        ("licences", "status", "dormant"),
        ("establishments", "kind", "arcade"),
        ("equipment", "kind", "pinball"),
        ("mobile_apps", "platform", "windows"),
    ],
)
def test_choice_field_rejects_a_value_not_in_its_list(
    http: httpx.Client, db: Engine, regulator: Headers, register: str, field: str, value: str
) -> None:
    org = make_organizer(db)["edrpou"]
    online = make_licence(db, organizer=org)["number"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    establishment = make_establishment(db, organizer=org, licence=hall)["id"]
    values = {
        "licences": licence_values(org),
        "establishments": establishment_values(org, hall),
        "equipment": equipment_values(org, establishment),
        "mobile_apps": app_values(org, online),
    }[register]
    errors = field_errors(create(http, regulator, register, {**values, field: value}))
    assert "must be one of" in errors[field]


@pytest.mark.parametrize(
    "number", ["Л-1", "A B", "-A1", "a" * 65, "A/1/2026", "LIC_2026.01-7", "a" * 64]
)
def test_licence_number_is_letters_digits_and_punctuation(
    http: httpx.Client, db: Engine, regulator: Headers, number: str
) -> None:
    org = make_organizer(db)["edrpou"]
    answer = create(http, regulator, "licences", licence_values(org, number=number))
    good = number in ("A/1/2026", "LIC_2026.01-7", "a" * 64)
    if good:
        assert created(answer)["number"] == number
    else:
        assert "number" in field_errors(answer)


@pytest.mark.parametrize("day", ["01.02.2026", "2026-02-30", "tomorrow"])
def test_licence_date_must_be_a_real_iso_date(
    http: httpx.Client, db: Engine, regulator: Headers, day: str
) -> None:
    org = make_organizer(db)["edrpou"]
    errors = field_errors(create(http, regulator, "licences", licence_values(org, valid_from=day)))
    assert "YYYY-MM-DD" in errors["valid_from"]


# --- licences ------------------------------------------------------------------------------


def test_licence_ending_before_it_starts_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    values = licence_values(org, valid_from="2026-03-02", valid_to="2026-03-01")
    errors = field_errors(create(http, regulator, "licences", values))
    assert "before valid_from" in errors["valid_to"]
    assert count(db, "licences") == 0


def test_licence_valid_for_a_single_day_is_accepted(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    values = licence_values(org, valid_from="2026-03-02", valid_to="2026-03-02")
    entry = created(create(http, regulator, "licences", values))
    assert entry["valid_from"] == entry["valid_to"] == "2026-03-02"


def test_licence_end_changed_to_before_its_start_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = patch(http, regulator, "licences", number, {"valid_to": days_from_today(-101)})
    assert "valid_to" in field_errors(answer)


def test_licence_of_an_unregistered_organizer_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    errors = field_errors(create(http, regulator, "licences", licence_values("14360570")))
    assert errors == {"organizer": "there is no organizer 14360570 in the register"}
    assert count(db, "licences") == 0


# --- establishments ------------------------------------------------------------------------


@pytest.mark.parametrize("activity", ["online_casino", "online_poker"])
def test_establishment_on_online_licence_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, activity: str
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, activity=activity)["number"]
    errors = field_errors(
        create(http, regulator, "establishments", establishment_values(org, number))
    )
    assert "land-based licence" in errors["licence"]
    assert count(db, "establishments") == 0


@pytest.mark.parametrize("activity", sorted(ESTABLISHMENT_KIND_OF))
@pytest.mark.parametrize("kind", sorted(set(ESTABLISHMENT_KIND_OF.values())))
def test_establishment_kind_must_match_its_licence_activity(
    http: httpx.Client, db: Engine, regulator: Headers, activity: str, kind: str
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, activity=activity)["number"]
    answer = create(http, regulator, "establishments", establishment_values(org, number, kind=kind))
    if ESTABLISHMENT_KIND_OF[activity] == kind:
        assert created(answer)["kind"] == kind
    else:
        assert f"not a {kind}" in field_errors(answer)["kind"]


def test_establishment_moved_to_an_online_licence_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    online = make_licence(db, organizer=org)["number"]
    est = make_establishment(db, organizer=org, licence=hall)["id"]
    assert "licence" in field_errors(
        patch(http, regulator, "establishments", est, {"licence": online})
    )


def test_establishment_on_another_organizers_licence_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    a = make_organizer(db)["edrpou"]
    b = make_organizer(db)["edrpou"]
    b_licence = make_licence(db, organizer=b, activity="slot_hall")["number"]
    answer = create(http, regulator, "establishments", establishment_values(a, b_licence))
    assert field_errors(answer) == {
        "licence": f"licence {b_licence} belongs to organizer {b}, not {a}"
    }
    assert count(db, "establishments") == 0


def test_establishment_on_an_unregistered_licence_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    answer = create(http, regulator, "establishments", establishment_values(org, "NO-SUCH"))
    assert field_errors(answer) == {"licence": "there is no licence NO-SUCH in the register"}


def test_establishments_get_generated_ids_in_sequence(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    values = establishment_values(org, hall)
    first = created(create(http, regulator, "establishments", values))
    second = created(create(http, regulator, "establishments", values))
    assert (first["id"], second["id"]) == ("EST-000001", "EST-000002")
    assert http.get(url("establishments", "EST-000002"), headers=regulator).status_code == 200


def test_generated_ids_continue_after_an_id_given_in_their_form(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    values = establishment_values(org, hall)
    created(create(http, regulator, "establishments", {**values, "id": "EST-000041"}))
    assert created(create(http, regulator, "establishments", values))["id"] == "EST-000042"


# --- equipment -----------------------------------------------------------------------------


@pytest.mark.parametrize(("activity", "establishment_kind"), sorted(ESTABLISHMENT_KIND_OF.items()))
def test_equipment_kind_must_fit_its_establishment(
    http: httpx.Client, db: Engine, regulator: Headers, activity: str, establishment_kind: str
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, activity=activity)["number"]
    est = make_establishment(db, organizer=org, licence=number, kind=establishment_kind)["id"]
    allowed = EQUIPMENT_ALLOWED_IN[establishment_kind]
    for n, kind in enumerate(EQUIPMENT_ALLOWED_IN["casino"]):
        values = equipment_values(org, est, kind=kind, serial_number=f"SN-{n}")
        answer = create(http, regulator, "equipment", values)
        if kind in allowed:
            assert created(answer)["kind"] == kind
        else:
            assert f"may hold only {', '.join(allowed)}" in field_errors(answer)["kind"]
    assert count(db, "equipment") == len(allowed)


def test_equipment_kind_changed_to_one_its_establishment_may_not_hold_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, activity="bookmaking")["number"]
    est = make_establishment(db, organizer=org, licence=number, kind="bookmaker_point")["id"]
    item = make_equipment(db, organizer=org, establishment=est, kind="terminal")["id"]
    assert "kind" in field_errors(patch(http, regulator, "equipment", item, {"kind": "roulette"}))


def test_equipment_in_another_organizers_establishment_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    a = make_organizer(db)["edrpou"]
    b = make_organizer(db)["edrpou"]
    b_hall = make_licence(db, organizer=b, activity="slot_hall")["number"]
    b_est = make_establishment(db, organizer=b, licence=b_hall)["id"]
    errors = field_errors(create(http, regulator, "equipment", equipment_values(a, b_est)))
    assert "belongs to organizer" in errors["establishment"]


def test_equipment_serial_number_is_unique_per_manufacturer(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    est = make_establishment(db, organizer=org, licence=hall)["id"]
    first = created(create(http, regulator, "equipment", equipment_values(org, est)))
    assert first["id"] == "EQP-000001"
    other_maker = equipment_values(org, est, manufacturer="IGT")
    created(create(http, regulator, "equipment", other_maker))
    errors = field_errors(create(http, regulator, "equipment", equipment_values(org, est)))
    assert "already registered as EQP-000001" in errors["serial_number"]


# --- websites and mobile apps --------------------------------------------------------------


@pytest.mark.parametrize("register", ["websites", "mobile_apps"])
@pytest.mark.parametrize("activity", ONLINE_ACTIVITIES + LAND_ONLY_ACTIVITIES)
def test_websites_and_apps_need_an_online_licence(
    http: httpx.Client, db: Engine, regulator: Headers, register: str, activity: str
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, activity=activity)["number"]
    values = website_values(org, number) if register == "websites" else app_values(org, number)
    answer = create(http, regulator, register, values)
    if activity in ONLINE_ACTIVITIES:
        assert created(answer)["licence"] == number
    else:
        assert "needs an online licence" in field_errors(answer)["licence"]


@pytest.mark.parametrize("register", ["websites", "mobile_apps"])
def test_websites_and_apps_on_another_organizers_licence_are_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, register: str
) -> None:
    a = make_organizer(db)["edrpou"]
    b = make_organizer(db)["edrpou"]
    b_licence = make_licence(db, organizer=b)["number"]
    values = website_values(a, b_licence) if register == "websites" else app_values(a, b_licence)
    assert (
        "belongs to organizer" in field_errors(create(http, regulator, register, values))["licence"]
    )
    assert count(db, register) == 0


def test_website_of_an_unregistered_organizer_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    errors = field_errors(create(http, regulator, "websites", website_values("14360570", number)))
    assert "organizer" in errors


@pytest.mark.parametrize(
    ("domain", "good"),
    [
        ("casino.com.ua", True),
        ("my-casino.ua", True),
        ("xn--80ak6aa92e.com", True),
        ("https://casino.ua", False),
        ("casino.ua/games", False),
        ("Casino.ua", False),
        ("localhost", False),
        ("-casino.ua", False),
        ("casino-.ua", False),
        ("casino..ua", False),
        ("casino.ua.", False),
        ("казино.укр", False),
    ],
)
def test_website_domain_must_be_a_bare_lower_case_domain(
    http: httpx.Client, db: Engine, regulator: Headers, domain: str, good: bool
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = create(http, regulator, "websites", website_values(org, number, domain=domain))
    if good:
        assert created(answer)["domain"] == domain
    else:
        assert "domain name" in field_errors(answer)["domain"]


def test_website_domain_is_unique(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    first = make_website(db, organizer=org, licence=number, domain="casino.ua")["id"]
    answer = create(http, regulator, "websites", website_values(org, number, domain="casino.ua"))
    assert field_errors(answer) == {"domain": f"domain casino.ua is already registered as {first}"}
    assert count(db, "websites") == 1


def test_website_domain_changed_to_one_already_registered_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    make_website(db, organizer=org, licence=number, domain="one.ua")
    second = make_website(db, organizer=org, licence=number, domain="two.ua")["id"]
    errors = field_errors(patch(http, regulator, "websites", second, {"domain": "one.ua"}))
    assert "already registered" in errors["domain"]


def test_website_keeping_its_own_domain_is_not_a_duplicate(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    first = make_licence(db, organizer=org)["number"]
    second = make_licence(db, organizer=org, activity="online_poker")["number"]
    site = make_website(db, organizer=org, licence=first, domain="one.ua")["id"]
    answer = patch(http, regulator, "websites", site, {"domain": "one.ua", "licence": second})
    assert answer.status_code == 200, answer.text
    assert answer.json()["licence"] == second


def test_mobile_app_store_id_is_unique_per_platform(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    android = created(create(http, regulator, "mobile_apps", app_values(org, number)))
    assert android["id"] == "APP-000001"
    ios = app_values(org, number, platform="ios")
    assert created(create(http, regulator, "mobile_apps", ios))["id"] == "APP-000002"
    errors = field_errors(create(http, regulator, "mobile_apps", app_values(org, number)))
    assert errors == {
        "store_id": "platform android, store_id ua.example.casino is already registered as "
        "APP-000001"
    }
    assert count(db, "mobile_apps") == 2


@pytest.mark.parametrize("store_id", ["ua example", ".ua.example", "ua/example", ""])
def test_mobile_app_store_id_must_look_like_a_store_identifier(
    http: httpx.Client, db: Engine, regulator: Headers, store_id: str
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = create(http, regulator, "mobile_apps", app_values(org, number, store_id=store_id))
    assert "store_id" in field_errors(answer)


# --- changes -------------------------------------------------------------------------------


def test_editable_field_is_changed_by_patch(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    answer = patch(http, regulator, "organizers", org, {"name": "ТОВ «Нова назва»"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["name"], answer.json()["version"]) == ("ТОВ «Нова назва»", 2)


@pytest.mark.parametrize(
    ("register", "field"),
    [("organizers", "edrpou"), ("licences", "number"), ("licences", "organizer")],
)
def test_key_and_organizer_cannot_be_changed_by_patch(
    http: httpx.Client, db: Engine, regulator: Headers, register: str, field: str
) -> None:
    org = make_organizer(db)["edrpou"]
    other = make_organizer(db)["edrpou"]
    licence = make_licence(db, organizer=org)["number"]
    key = org if register == "organizers" else licence
    new = {"edrpou": other, "number": "L-NEW", "organizer": other}[field]
    errors = field_errors(patch(http, regulator, register, key, {field: new}))
    assert errors == {field: "cannot be changed once recorded"}
    entry = http.get(url(register, key), headers=regulator).json()
    assert (entry[field], entry["version"]) == (key if field != "organizer" else org, 1)


def test_generated_id_cannot_be_changed_by_patch(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    site = make_website(db, organizer=org, licence=number)["id"]
    errors = field_errors(patch(http, regulator, "websites", site, {"id": "WEB-999999"}))
    assert errors == {"id": "cannot be changed once recorded"}


def test_status_cannot_be_changed_by_patch(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    errors = field_errors(patch(http, regulator, "licences", number, {"status": "suspended"}))
    assert "status action" in errors["status"]
    assert http.get(url("licences", number), headers=regulator).json()["status"] == "active"


def test_patch_repeating_the_current_status_is_accepted(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = patch(http, regulator, "licences", number, {"status": "active", "decision": "Р-2"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] == "Р-2"


def test_patch_clearing_a_required_field_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    errors = field_errors(patch(http, regulator, "organizers", org, {"name": ""}))
    assert errors == {"name": "is required"}


def test_patch_clearing_an_optional_field_is_accepted(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    patch(http, regulator, "organizers", org, {"email": "a@b.ua"}).raise_for_status()
    answer = patch(http, regulator, "organizers", org, {"email": None})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["email"], answer.json()["version"]) == (None, 3)


def test_patch_with_an_unknown_field_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    assert "colour" in field_errors(patch(http, regulator, "organizers", org, {"colour": "red"}))


def test_patch_changing_nothing_records_no_version(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db, name="ТОВ «Та сама»")["edrpou"]
    answer = patch(http, regulator, "organizers", org, {"name": "ТОВ «Та сама»"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1


def test_patch_of_an_unknown_entry_is_404(http: httpx.Client, regulator: Headers) -> None:
    answer = patch(http, regulator, "licences", "NO-SUCH", {"decision": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


# --- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (["suspended"], None),
        (["suspended", "active"], None),
        (["revoked"], None),
        (["suspended", "expired"], None),
        (["revoked", "active"], "active"),
        (["revoked", "suspended"], "suspended"),
        (["expired", "active"], "active"),
    ],
)
def test_licence_status_moves_only_along_allowed_transitions(
    http: httpx.Client, db: Engine, regulator: Headers, steps: list[str], refused: str | None
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    for step in steps:
        answer = set_status(http, regulator, "licences", number, step)
        if step == refused:
            old = steps[steps.index(step) - 1]
            assert field_errors(answer) == {"status": f"cannot go from {old} to {step}"}
        else:
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == step
    final = http.get(url("licences", number), headers=regulator).json()
    assert final["status"] == (steps[-2] if refused else steps[-1])


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("pending", "active", True),
        ("pending", "suspended", True),
        ("active", "suspended", True),
        ("suspended", "active", True),
        ("active", "pending", False),
        ("suspended", "pending", False),
    ],
)
def test_organizer_status_transitions(
    http: httpx.Client, db: Engine, regulator: Headers, start: str, to: str, allowed: bool
) -> None:
    org = make_organizer(db, status=start)["edrpou"]
    answer = set_status(http, regulator, "organizers", org, to)
    if allowed:
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == to
    else:
        assert "status" in field_errors(answer)


def test_channel_becomes_inactive_and_active_again(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    site = make_website(db, organizer=org, licence=number)["id"]
    assert set_status(http, regulator, "websites", site, "inactive").json()["status"] == "inactive"
    again = set_status(http, regulator, "websites", site, "active").json()
    assert (again["status"], again["version"]) == ("active", 3)


@pytest.mark.parametrize("status", ["closed", None, 3])
def test_status_that_is_not_one_of_the_registers_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, status: object
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    assert "status" in field_errors(set_status(http, regulator, "licences", number, status))


def test_status_set_to_the_current_one_records_no_version(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = set_status(http, regulator, "licences", number, "active")
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1


def test_status_of_an_unknown_entry_is_404(http: httpx.Client, regulator: Headers) -> None:
    assert set_status(http, regulator, "licences", "NO-SUCH", "revoked").status_code == 404


def test_licence_may_be_recorded_with_a_status_other_than_the_initial_one(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    values = licence_values(org, status="suspended")
    assert created(create(http, regulator, "licences", values))["status"] == "suspended"


# --- grounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grounds", [None, {}, {"decision": "", "reason": "  "}, "because", ["Р-1"]]
)
def test_create_without_grounds_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, grounds: object
) -> None:
    answer = create(http, regulator, "organizers", organizer_values("14360570"), grounds=grounds)
    assert "grounds" in field_errors(answer)
    assert count(db, "organizers") == 0


def test_patch_without_grounds_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    answer = patch(http, regulator, "organizers", org, {"name": "Інша"}, grounds=None)
    assert "grounds" in field_errors(answer)
    assert http.get(url("organizers", org), headers=regulator).json()["version"] == 1


def test_status_change_without_grounds_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    answer = set_status(http, regulator, "licences", number, "revoked", grounds={})
    assert "grounds" in field_errors(answer)
    assert http.get(url("licences", number), headers=regulator).json()["status"] == "active"


@pytest.mark.parametrize("grounds", [{"decision": "Р-17"}, {"reason": "скарга"}])
def test_a_decision_or_a_reason_is_enough_grounds(
    http: httpx.Client, regulator: Headers, grounds: dict[str, str]
) -> None:
    created(create(http, regulator, "organizers", organizer_values("14360570"), grounds=grounds))


@pytest.mark.parametrize(
    ("grounds", "field"),
    [({"decision": "Р" * 201}, "grounds.decision"), ({"reason": "x" * 1001}, "grounds.reason")],
)
def test_overlong_grounds_are_rejected(
    http: httpx.Client, regulator: Headers, grounds: dict[str, str], field: str
) -> None:
    answer = create(http, regulator, "organizers", organizer_values("14360570"), grounds=grounds)
    assert field in field_errors(answer)


# --- the body ------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [None, [], "edrpou=14360570", 7])
def test_values_that_are_not_an_object_are_rejected(
    http: httpx.Client, regulator: Headers, values: object
) -> None:
    errors = field_errors(create(http, regulator, "organizers", values))
    assert errors == {"values": "must be an object"}


def test_patch_values_that_are_not_an_object_are_rejected(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    assert "values" in field_errors(patch(http, regulator, "organizers", org, ["name"]))


def test_body_that_is_not_an_object_is_rejected(http: httpx.Client, regulator: Headers) -> None:
    answer = http.post(url("organizers"), json=[organizer_values("14360570")], headers=regulator)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_malformed_json_is_invalid_body(
    http: httpx.Client, db: Engine, regulator: Headers, method: str
) -> None:
    org = make_organizer(db)["edrpou"]
    path = url("organizers") if method == "POST" else url("organizers", org)
    answer = http.request(
        method,
        path,
        content=b'{"values": {"name": "x"',
        headers={**regulator, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_body"


def test_writes_need_a_token_that_may_write(http: httpx.Client, db: Engine, tax: Headers) -> None:
    assert create(http, {}, "organizers", organizer_values("14360570")).status_code == 401
    answer = create(http, tax, "organizers", organizer_values("14360570"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert count(db, "organizers") == 0


# --- lists ---------------------------------------------------------------------------------


def test_list_pages_through_entries_in_key_order(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    codes = sorted(make_organizer(db)["edrpou"] for _ in range(5))
    first = http.get(url("organizers"), params={"limit": 2}, headers=regulator).json()
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [e["edrpou"] for e in first["items"]] == codes[:2]
    middle = http.get(url("organizers"), params={"limit": 2, "offset": 2}, headers=regulator)
    assert [e["edrpou"] for e in middle.json()["items"]] == codes[2:4]
    last = http.get(url("organizers"), params={"limit": 2, "offset": 4}, headers=regulator).json()
    assert ([e["edrpou"] for e in last["items"]], last["total"]) == (codes[4:], 5)
    beyond = http.get(url("organizers"), params={"offset": 10}, headers=regulator).json()
    assert (beyond["items"], beyond["total"]) == ([], 5)


def test_list_defaults_to_fifty_entries(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    answer = http.get(url("organizers"), headers=regulator).json()
    assert answer == {"items": [], "total": 0, "limit": 50, "offset": 0}


@pytest.mark.parametrize(
    ("param", "value"), [("limit", "0"), ("limit", "1001"), ("offset", "-1"), ("limit", "many")]
)
def test_list_paging_out_of_range_is_rejected(
    http: httpx.Client, regulator: Headers, param: str, value: str
) -> None:
    answer = http.get(url("organizers"), params={param: value}, headers=regulator)
    assert param in field_errors(answer)


def test_list_filters_by_activity_and_status(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    casino = make_licence(db, organizer=org, number="A-1")["number"]
    make_licence(db, organizer=org, number="A-2", activity="online_poker")
    make_licence(db, organizer=org, number="A-3", status="suspended")

    def numbers(**params: str) -> list[str]:
        answer = http.get(url("licences"), params=params, headers=regulator).json()
        assert answer["total"] == len(answer["items"])
        return [e["number"] for e in answer["items"]]

    assert numbers(activity="online_casino") == [casino, "A-3"]
    assert numbers(status="suspended") == ["A-3"]
    assert numbers(activity="online_casino", status="active") == [casino]
    assert numbers(activity="slot_hall") == []
    assert numbers(organizer=org) == ["A-1", "A-2", "A-3"]


def test_list_filters_channels_by_licence(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    one = make_licence(db, organizer=org)["number"]
    two = make_licence(db, organizer=org)["number"]
    make_website(db, organizer=org, licence=one, domain="one.ua")
    make_website(db, organizer=org, licence=two, domain="two.ua")
    answer = http.get(url("websites"), params={"licence": two}, headers=regulator).json()
    assert [e["domain"] for e in answer["items"]] == ["two.ua"]


@pytest.mark.parametrize(
    ("register", "field", "value"),
    [
        ("licences", "activity", "lottery"),
        ("licences", "status", "dormant"),
        ("organizers", "status", "expired"),
        ("mobile_apps", "platform", "symbian"),
        ("equipment", "kind", "pinball"),
    ],
)
def test_list_filter_value_its_field_cannot_take_is_rejected(
    http: httpx.Client, regulator: Headers, register: str, field: str, value: str
) -> None:
    answer = http.get(url(register), params={field: value}, headers=regulator)
    assert "must be one of" in field_errors(answer)[field]


@pytest.mark.parametrize("query", ["гра", "ГРА", "Гра"])
def test_list_text_search_ignores_case_in_ukrainian(
    http: httpx.Client, db: Engine, regulator: Headers, query: str
) -> None:
    wanted = make_organizer(db, name="ТОВ «Щаслива Гра»")["edrpou"]
    make_organizer(db, name="ТОВ «Лото»")
    answer = http.get(url("organizers"), params={"q": query}, headers=regulator).json()
    assert [e["edrpou"] for e in answer["items"]] == [wanted]
    assert answer["total"] == 1


def test_list_text_search_looks_in_every_searchable_field(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    by_code = make_organizer(db)["edrpou"]
    by_rnokpp = make_organizer(db, head_rnokpp=make_rnokpp(987_654_321))["edrpou"]
    make_organizer(db)

    def found(q: str) -> list[str]:
        answer = http.get(url("organizers"), params={"q": q}, headers=regulator).json()
        return [e["edrpou"] for e in answer["items"]]

    assert found(by_code) == [by_code]
    assert found("98765432") == [by_rnokpp]
    assert found("nothing like it") == []


def test_list_text_search_combines_with_filters_and_paging(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    for name in ("alpha", "beta", "gamma", "delta"):
        make_website(db, organizer=org, licence=number, domain=f"{name}-bet.ua")
    make_website(db, organizer=org, licence=number, domain="casino.ua")
    answer = http.get(
        url("websites"), params={"q": "BET", "limit": 3, "offset": 1}, headers=regulator
    ).json()
    assert answer["total"] == 4
    assert len(answer["items"]) == 3
    assert all("-bet.ua" in e["domain"] for e in answer["items"])


def test_list_text_search_takes_percent_and_underscore_literally(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    percent = make_organizer(db, name="ТОВ «100% Гра»")["edrpou"]
    make_organizer(db, name="ТОВ «1000 Гра»")
    number = make_licence(db, organizer=percent)["number"]
    underscore = created(
        create(http, regulator, "mobile_apps", app_values(percent, number, store_id="ua.game_one"))
    )["id"]
    created(
        create(http, regulator, "mobile_apps", app_values(percent, number, store_id="ua.gamexone"))
    )

    def found(register: str, q: str) -> list[str]:
        answer = http.get(url(register), params={"q": q}, headers=regulator).json()
        return [e["edrpou" if register == "organizers" else "id"] for e in answer["items"]]

    assert found("organizers", "100%") == [percent]
    assert found("organizers", "%") == [percent]
    assert found("mobile_apps", "game_one") == [underscore]
