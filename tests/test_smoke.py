"""The application starts on both databases and answers its health checks."""

from __future__ import annotations

import httpx


def test_healthz_and_readyz_answer(http: httpx.Client) -> None:
    assert http.get("/healthz").json()["status"] == "ok"
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_describes_every_register(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for name in (
        "organizers",
        "licences",
        "establishments",
        "equipment",
        "websites",
        "mobile_apps",
    ):
        assert f"/api/v1/registers/{name}" in paths
        assert f"/api/v1/registers/{name}/{{key}}/history" in paths
    assert http.get("/docs").status_code == 200
