"""Configuration from `DSOM_` environment variables, each with a working default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    reporting_window_days: int = 30
    keys_out: Path = Path("var/keys.json")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
