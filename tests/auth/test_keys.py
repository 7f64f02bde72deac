"""Organizers' access keys: shown once, stored hashed, refused within a second of deactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from dsom.auth.keys import (
    KeyCache,
    OrganizerSuspended,
    create_key,
    deactivate_key,
    list_keys,
)
from dsom.auth.models import access_keys
from dsom.auth.principal import SYSTEM
from dsom.auth.tokens import token_hash
from dsom.kit.errors import NotFound, Unauthorized, ValidationFailed
from dsom.registers import service
from dsom.registers.declarations import ORGANIZERS
from tests.builders import GROUNDS, make_organizer


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _key(db: Engine, organizer: str) -> str:
    with db.begin() as conn:
        return create_key(conn, organizer=organizer, name="test", created_by="test").secret


def _principal(cache: KeyCache, secret: str) -> object:
    entry = cache.cached(secret) or cache.refresh(secret)
    return KeyCache.judge(entry)


def test_a_key_is_stored_only_as_its_hash(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    secret = _key(db, org)
    with db.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(access_keys)).mappings()]
    assert len(rows) == 1
    assert rows[0]["key_hash"] == token_hash(secret)
    assert all(secret not in str(value) for value in rows[0].values())


def test_a_key_for_an_unregistered_organizer_is_refused(db: Engine) -> None:
    with db.begin() as conn, pytest.raises(ValidationFailed):
        create_key(conn, organizer="14360570", name="x", created_by="test")


def test_a_key_stands_for_its_organizer(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    principal = _principal(KeyCache(db), _key(db, org))
    assert principal.organizer == org  # type: ignore[attr-defined]
    assert principal.kind == "key"  # type: ignore[attr-defined]


def test_an_unknown_key_is_unauthorized(db: Engine) -> None:
    make_organizer(db)
    with pytest.raises(Unauthorized):
        _principal(KeyCache(db), "dsomk_not-a-key")


def test_a_deactivated_key_is_refused_within_one_second(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    secret = _key(db, org)
    clock = Clock()
    cache = KeyCache(db, clock=clock)
    _principal(cache, secret)
    with db.begin() as conn:
        deactivate_key(conn, list_keys(conn)[0]["id"])
    clock.now += 0.5
    assert cache.cached(secret) is not None  # still within its second: no query made
    clock.now += 0.5
    assert cache.cached(secret) is None  # a second has passed: it must be read again
    with pytest.raises(Unauthorized):
        _principal(cache, secret)


def test_the_background_refresh_reads_every_known_key_again(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    first, second = _key(db, org), _key(db, org)
    clock = Clock()
    cache = KeyCache(db, clock=clock)
    _principal(cache, first)
    _principal(cache, second)
    with db.begin() as conn:
        deactivate_key(conn, list_keys(conn)[0]["id"])  # one of the two
        service.set_status(conn, ORGANIZERS, SYSTEM, org, "suspended", GROUNDS)
    clock.now += 0.9
    cache.refresh_known()

    clock.now += 0.9  # past the first read's second: only the refresh keeps them fresh
    entries = [cache.cached(first), cache.cached(second)]
    assert all(entry is not None for entry in entries)
    refused = [entry for entry in entries if entry is not None and entry.principal is None]
    suspended = [e for e in entries if e is not None and e.organizer_status == "suspended"]
    assert len(refused) == 1  # the deactivated key
    assert len(suspended) == 1  # the other, its organizer now suspended


def test_refused_keys_are_not_refreshed_and_are_forgotten_after_a_minute(db: Engine) -> None:
    make_organizer(db)
    clock = Clock()
    cache = KeyCache(db, clock=clock)
    with pytest.raises(Unauthorized):
        _principal(cache, "dsomk_not-a-key")
    cache.refresh_known()
    assert token_hash("dsomk_not-a-key") in cache._known
    clock.now += 61
    cache.refresh_known()
    assert cache._known == {}


def test_a_suspended_organizers_key_is_refused_with_organizer_suspended(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    secret = _key(db, org)
    with db.begin() as conn:
        service.set_status(conn, ORGANIZERS, SYSTEM, org, "suspended", GROUNDS)
    with pytest.raises(OrganizerSuspended) as info:
        _principal(KeyCache(db), secret)
    assert info.value.status_code == 403


def test_a_pending_organizers_key_is_refused_too(db: Engine) -> None:
    org = make_organizer(db, status="pending")["edrpou"]
    with pytest.raises(OrganizerSuspended):
        _principal(KeyCache(db), _key(db, org))


def test_use_records_when_a_key_was_last_used_at_most_once_a_minute(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    secret = _key(db, org)
    with db.connect() as conn:
        assert list_keys(conn)[0]["last_used_at"] is None
    cache = KeyCache(db)
    principal = _principal(cache, secret)
    cache.note_use(principal.id)  # type: ignore[attr-defined]
    with db.begin() as conn:
        cache.write_last_used(conn)
    with db.connect() as conn:
        first = list_keys(conn)[0]["last_used_at"]
    assert first is not None
    cache.note_use(principal.id)  # type: ignore[attr-defined]
    assert cache.due_last_used() == []  # written less than a minute ago: not again yet


def test_an_organizer_may_deactivate_only_its_own_keys(db: Engine) -> None:
    a = make_organizer(db)["edrpou"]
    b = make_organizer(db)["edrpou"]
    _key(db, b)
    with db.connect() as conn:
        b_key = list_keys(conn, b)[0]["id"]
    with db.begin() as conn, pytest.raises(NotFound):
        deactivate_key(conn, b_key, organizer=a)
    with db.connect() as conn:
        assert list_keys(conn, b)[0]["deactivated_at"] is None


def test_deactivating_twice_is_not_found(db: Engine) -> None:
    org = make_organizer(db)["edrpou"]
    _key(db, org)
    with db.connect() as conn:
        key_id = list_keys(conn)[0]["id"]
    with db.begin() as conn:
        deactivate_key(conn, key_id)
    with db.begin() as conn, pytest.raises(NotFound):
        deactivate_key(conn, key_id)
