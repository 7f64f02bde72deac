"""What crosses the login API (interfaces.md, "People and roles")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChallengeOut(BaseModel):
    """A one-time challenge to sign: valid for a minute, usable once."""

    challenge: str
    expires_at: str = Field(description="RFC 3339, UTC")


class QesLogin(BaseModel):
    """The challenge DSOM issued, and the person's CMS signature of it."""

    challenge: str = Field(max_length=100)
    signature: str = Field(
        max_length=400_000,
        description="CMS/PKCS#7 SignedData (CAdES-BES), attached or detached, DER in base64, "
        "over the challenge's UTF-8 bytes",
    )


class PersonOut(BaseModel):
    """The person logged in."""

    rnokpp: str
    name: str
    roles: list[str]
    organizer: str | None = Field(description="the organizer's EDRPOU code, or null")


class LoginOut(BaseModel):
    """A successful login (the session cookie comes with it)."""

    person: PersonOut


class SessionOut(BaseModel):
    """The session a request came with."""

    id: str
    created_at: str
    expires_at: str
    idle_minutes: float = Field(description="it also ends after this long without a request")


class MeOut(BaseModel):
    """Who is logged in, what they may do, and the CSRF token their requests must carry."""

    person: PersonOut
    permissions: list[str]
    csrf_token: str = Field(description="send it as X-CSRF-Token with every POST/PUT/PATCH/DELETE")
    session: SessionOut
