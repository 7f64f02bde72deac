"""The web pages' static files: ours, and the front-end libraries built from npm."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("dsom.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Built by `make install` (npm ci + npm run build, see frontend/build.mjs); never committed.
VENDOR_ASSETS = ("htmx.min.js", "echarts.min.js", "qes.js")


def missing_assets() -> list[str]:
    """The built front-end assets that are not there."""
    return [name for name in VENDOR_ASSETS if not (STATIC_DIR / "vendor" / name).is_file()]


def mount_static(app: FastAPI) -> None:
    """Serve `web/static` at `/static`; warn (and still serve) when the assets are not built."""
    missing = missing_assets()
    if missing:
        log.warning(
            "front-end assets not built (%s missing from %s): run `make install` (needs npm)",
            ", ".join(missing),
            STATIC_DIR / "vendor",
        )
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
