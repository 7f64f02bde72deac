"""The login API (interfaces.md): a challenge, its QES signature, a session cookie.

POST /api/v1/auth/challenge   a one-time challenge, valid for a minute
POST /api/v1/auth/qes         {"challenge", "signature"} → the person, and a session cookie
POST /api/v1/auth/logout      ends the session
GET  /api/v1/auth/me          who is logged in, their permissions, the session's CSRF token
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from dsom.auth.deps import CSRF_HEADER, DB, SESSION_COOKIE, PersonSession
from dsom.kit.settings import Settings
from dsom.kit.time import isoformat_z
from dsom.people import service
from dsom.people.schemas import ChallengeOut, LoginOut, MeOut, PersonOut, QesLogin, SessionOut
from dsom.qes.verifier import SignatureVerifier

router = APIRouter(prefix="/api/v1/auth", tags=["login"])

LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "refused: `error.code` is bad_signature, untrusted_certificate, "
        "certificate_expired, certificate_revoked, challenge_expired, challenge_used or "
        "unknown_person"
    },
}
NO_STORE = {"Cache-Control": "no-store"}


def client_ip(request: Request) -> str | None:
    """The caller's address (uvicorn takes it from X-Forwarded-For of a trusted proxy)."""
    return request.client.host if request.client else None


def cookie_secure(request: Request, settings: Settings) -> bool:
    """Whether the session cookie must be Secure: served over HTTPS, or told so."""
    return settings.cookie_secure == "always" or request.url.scheme == "https"


@router.post(
    "/challenge",
    summary="A one-time login challenge",
    responses={429: {"description": "`rate_limited`: too many from this address; see Retry-After"}},
)
def challenge(request: Request, engine: DB) -> ChallengeOut:
    """A challenge to sign with the person's key: valid for a minute, usable once."""
    settings: Settings = request.app.state.settings
    with service.transaction(engine) as conn:
        issued = service.issue_challenge(
            conn, ip=client_ip(request), per_minute=settings.login_challenges_per_minute
        )
    return ChallengeOut(challenge=issued.text, expires_at=isoformat_z(issued.expires_at))


@router.post("/qes", summary="Log in with a QES signature", responses=LOGIN_ERRORS)
def qes_login(body: QesLogin, request: Request, response: Response, engine: DB) -> LoginOut:
    """Verify the signature of a challenge and the signer's certificate, find the person it
    names, and start a session (cookie `dsom_session`; its CSRF token in `X-CSRF-Token`)."""
    settings: Settings = request.app.state.settings
    verifier: SignatureVerifier = request.app.state.qes
    done = service.login(
        engine,
        verifier,
        challenge=body.challenge,
        signature=body.signature,
        settings=settings,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response.set_cookie(
        SESSION_COOKIE,
        done.cookie,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, settings),
        path="/",
    )
    response.headers.update({CSRF_HEADER: done.csrf_token, **NO_STORE})
    return LoginOut(person=PersonOut(**done.person.public()))


@router.post("/logout", summary="Log out", status_code=204)
def logout(request: Request, engine: DB) -> Response:
    """End the session of the cookie sent (if any) and clear the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.logout(engine, cookie, ip=client_ip(request))
    answer = Response(status_code=204)
    answer.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, request.app.state.settings),
    )
    return answer


@router.get("/me", summary="Who is logged in", responses={401: {"description": "no session"}})
def me(session: PersonSession, request: Request, response: Response) -> MeOut:
    """The person of the session cookie, their permissions, and the session's CSRF token."""
    settings: Settings = request.app.state.settings
    response.headers.update(NO_STORE)
    return MeOut(
        person=PersonOut(**session.person.public()),
        permissions=sorted(p.value for p in session.principal.permissions),
        csrf_token=session.csrf_token,
        session=SessionOut(
            id=session.id,
            created_at=isoformat_z(session.created_at),
            expires_at=isoformat_z(session.expires_at),
            idle_minutes=settings.session_idle_minutes,
        ),
    )
