"""Settings: environment (``AGENT_TUI_*``) over a TOML file over defaults.

The TOML file lives at ``platformdirs.user_config_path("agent-tui") / "config.toml"``
(``agent-tui locate config`` prints it); ``AGENT_TUI_CONFIG`` points elsewhere.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "agent-tui"


def config_path() -> Path:
    override = os.environ.get("AGENT_TUI_CONFIG")
    if override:
        return Path(override)
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


class Settings(BaseSettings):
    """Everything a seat, a lead console or a central store can be told."""

    model_config = SettingsConfigDict(env_prefix="AGENT_TUI_", extra="ignore")

    language: Literal["zh", "en"] = "zh"
    #: The zone every time on a seat is shown in: the centre's (an IANA name).
    display_timezone: str = "Asia/Shanghai"
    data_dir: Path = Field(default_factory=default_data_dir)
    #: The centre's own address book (CSV, see ``agent-tui import-addresses``), added to the
    #: gazetteer and the starter roads. Defaults to ``<data_dir>/address_book.csv`` if present.
    address_book: Path | None = None
    #: Extra calendar overrides (TOML): the centre's schedule for years chinese-calendar lacks.
    calendar_overrides: Path | None = None
    #: Key remaps: binding id → keys, e.g. ``{"lookup.focus_search" = "f2"}``.
    keymap: dict[str, str] = Field(default_factory=dict)

    # --- the seat ------------------------------------------------------------------------------
    #: The CA certificate (PEM) a seat checks the store's HTTPS certificate against: the
    #: centre's own CA. Unset: the system's trust store.
    ca_file: Path | None = None

    # --- the central store (agent-tui serve) ---------------------------------------------------
    #: SQLAlchemy URL; default: SQLite ``<data_dir>/central.db``. PostgreSQL:
    #: ``postgresql+psycopg://user:password@host/dbname``, as the runtime role (README: two
    #: roles): what ``agent-tui serve`` logs in as.
    db_url: str | None = None
    #: PostgreSQL: the same database as the owner role, which runs the migrations (``agent-tui
    #: migrate``, and ``serve`` when the schema is behind) and loads demo data. Unset: ``db_url``
    #: does everything (SQLite; a single-role PostgreSQL, whose store can rewrite its own log).
    db_owner_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8345
    #: HTTPS: the store's certificate and private key (PEM). With both set, ``agent-tui
    #: serve`` serves HTTPS only; seats then use ``https://`` addresses.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    token_ttl_hours: float = 12.0
    #: How long a write waits for its turn and for the database's write lock (held by another
    #: writer, a backup, the CLI) before it is refused with 503 and Retry-After (nothing
    #: written; the seat sends it again). Well under the seat's request timeout (10 s).
    write_wait_seconds: float = Field(default=5.0, gt=0, le=60)
    #: Failed logins allowed per user id within ``login_window_minutes`` before 429.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    max_callback_tries: int = 3
    #: Share of directly resolved cases sampled for a callback (0–1).
    callback_sample_rate: float = 0.2
    #: Seconds between clock-job runs (reminders, overdue notices); 0 disables them.
    clock_interval_seconds: float = 60.0
    #: Related cases (关联工单): an open case of the same category at the same village or road
    #: registered within this many days is offered for linking at intake.
    related_window_days: float = 7.0
    #: A seat not heard from for this long is shown offline.
    seat_offline_after_seconds: float = 120.0
    #: A seat not heard from for this long is forgotten (gone from the board).
    seat_forget_after_seconds: float = 86_400.0
    #: Seats one account is shown at (a new one takes the place of the one heard from last).
    seats_per_user: int = Field(default=4, ge=1, le=100)
    #: The lead dashboard's KPI tiles (an event replay: the expensive part) are reused for this
    #: long per viewer scope and period, and refreshed in the background once older; 0: never.
    #: Today's tile and the hot spots use ``kpi_cache_seconds``; the week's and the month's
    #: (seconds of replay each at 1M cases) ``kpi_cache_long_seconds``.
    kpi_cache_seconds: float = 60.0
    kpi_cache_long_seconds: float = 600.0
    #: Processes that run the replays apart from the server's (its requests never wait on
    #: their Python); 0: a thread of the server process.
    kpi_processes: int = 1
    #: How long the dashboard waits for a tile still being computed before it answers without
    #: it (the board shows the tile when a later answer has it).
    kpi_wait_seconds: float = 0.3

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (an IANA name: Asia/Shanghai)") from exc
        return name

    def tls_context(self) -> ssl.SSLContext:
        """How a seat checks the store's certificate: against ``ca_file`` alone when set,
        else against the system's trust store (not a bundle shipped with a library)."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'central.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path()),
        )

    def address_book_path(self) -> Path | None:
        if self.address_book is not None:
            return self.address_book
        default = self.data_dir / "address_book.csv"
        return default if default.exists() else None
