"""Configuration from `DSOM_` environment variables, each with a working default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator may set; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="DSOM_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/dsom.db",
        description="SQLAlchemy URL: sqlite:///relative.db, sqlite:////abs.db, postgresql://u@h:p/db",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    log_format: str = Field(default="text", description="`text` for people, `json` for collectors")
    sqlite_cache_mb: int = Field(default=256, description="SQLite page cache per connection, MiB")
    reporting_window_days: int = Field(default=30, ge=1, description="protocol §2.2 window")
    large_win_floor: int = Field(
        default=1_000_000,
        description="wins of at least this many kopiyky are indexed for the large-wins report",
    )
    tax_rates: str = Field(
        default='[{"from": "2000-01-01", "income_tax": "0.18", "military_levy": "0.05"}]',
        description="winnings-tax rates (JSON list), each with the Kyiv date it applies from",
    )
    ingest_max_batch: int = Field(
        default=50_000, description="operations per group commit, at most"
    )
    rate_limit: float = Field(
        default=0,
        ge=0,
        description="operations a second each organizer may send (429 over it); 0: no limit",
    )
    ingest_lock_timeout_s: float = Field(
        default=10.0, description="how long a group commit waits for the database before 503"
    )
    keys_out: Path = Path("var/keys.json")
    # Set by `dsom serve --workers N` for each process it starts; not for operators.
    shard_index: int = Field(default=0, ge=0, description="this process's shard (internal)")
    shard_count: int = Field(default=1, ge=1, description="processes sharing organizers (internal)")
    shard_dir: Path | None = Field(default=None, description="their link sockets (internal)")
    qes_trusted_cas: str = Field(
        default="",
        description="comma-separated PEM files of the CAs whose certificates may log in; "
        "unset: the demo CA, <keys_out folder>/pki/ca.pem, once it exists",
    )
    qes_crls: str = Field(
        default="",
        description="comma-separated CRL files (PEM or DER); unset: <keys_out folder>/pki/crl.pem",
    )
    session_hours: float = Field(
        default=12, gt=0, description="a session ends this long after login"
    )
    session_idle_minutes: float = Field(
        default=30, gt=0, description="a session ends after this long without a request"
    )
    login_challenges_per_minute: int = Field(
        default=60,
        ge=0,
        description="login challenges one IP address may ask for a minute (429 over it); 0: any",
    )
    cookie_secure: Literal["auto", "always"] = Field(
        default="auto",
        description="`auto`: Secure cookies when the request came over HTTPS; `always`: behind "
        "a TLS-terminating proxy that does not pass X-Forwarded-Proto",
    )

    def trusted_ca_files(self) -> tuple[list[Path], bool]:
        """The trusted-CA files, and whether they were configured (else the demo default)."""
        return _paths(self.qes_trusted_cas, self.keys_out.parent / "pki" / "ca.pem")

    def crl_files(self) -> tuple[list[Path], bool]:
        """The CRL files, and whether they were configured (else the demo default)."""
        return _paths(self.qes_crls, self.keys_out.parent / "pki" / "crl.pem")


def _paths(value: str, default: Path) -> tuple[list[Path], bool]:
    configured = [Path(p.strip()) for p in value.split(",") if p.strip()]
    return (configured, True) if configured else ([default], False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
