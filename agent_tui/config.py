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
    #: The demo's central store (``agent-tui demo``): on 127.0.0.1 at this port, shared by
    #: every terminal of the demo (``seat --demo``, ``lead --demo`` join it).
    demo_port: int = Field(default=8346, ge=1, le=65535)
    #: HTTPS: the store's certificate and private key (PEM). With both set, ``agent-tui
    #: serve`` serves HTTPS only; seats then use ``https://`` addresses.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    token_ttl_hours: float = 12.0
    #: How long a write waits for its turn and for the database's write lock (held by another
    #: writer, a backup, the CLI) before it is refused with 503 and Retry-After (nothing
    #: written; the seat sends it again). Well under the seat's request timeout (10 s).
    write_wait_seconds: float = Field(default=5.0, gt=0, le=60)
    #: A disabled user or a new password reaches every worker process within this many seconds
    #: (each keeps checked tokens this long), and every open change stream re-checks its token
    #: this often.
    token_recheck_seconds: float = Field(default=10.0, gt=0, le=300)
    # --- logins (README "Logins and passwords") ---
    #: Free failed logins per (user, address); then a delay before each further try that
    #: starts at ``login_delay_seconds`` and doubles with each failure, up to
    #: ``login_max_delay_minutes``. Failures are forgotten ``login_window_minutes`` after the
    #: last delay ended (or at once by a successful login from that address).
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_delay_seconds: float = Field(default=30.0, gt=0, le=3600)
    login_max_delay_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    #: Free failures per client address (any user ids) and per user id (any addresses) before
    #: the same growing delay applies there; neither applies to a user at an address they
    #: logged in from within ``login_trust_days`` (nobody locks a user out of their own seat).
    login_address_max_failures: int = Field(default=30, ge=1, le=10_000)
    login_user_max_failures: int = Field(default=20, ge=1, le=10_000)
    login_trust_days: float = Field(default=30.0, ge=0, le=366)
    #: Passwords are checked (argon2id, 64 MiB, ~0.15 s of CPU each) by this many threads per
    #: server process, at a lower CPU priority than requests (users back at an address they
    #: logged in from have one more of their own, at normal priority); at most
    #: ``login_queue_limit`` logins wait for each, the next get 503 with Retry-After.
    login_hash_threads: int = Field(default=2, ge=1, le=16)
    #: Login tries per client address per minute (after a burst of ``login_rate_burst``),
    #: counted per server process before any other work; a try over it is answered 429 once
    #: its Retry-After has passed (at most 2 s later); 0: no limit.
    login_rate_per_minute: float = Field(default=60.0, ge=0, le=100_000)
    login_rate_burst: int = Field(default=10, ge=1, le=100_000)
    login_queue_limit: int = Field(default=8, ge=0, le=1000)
    #: New passwords: at least this long (and not common, repetitive, a sequence or the user id).
    password_min_length: int = Field(default=10, ge=8, le=64)
    max_callback_tries: int = 3
    #: Share of directly resolved cases sampled for a callback (0–1).
    callback_sample_rate: float = 0.2
    #: Seconds between clock-job runs (reminders, overdue notices); 0 disables them.
    clock_interval_seconds: float = 60.0
    #: Related cases (关联工单): an open case of the same category at the same village or road
    #: registered within this many days is offered for linking at intake.
    related_window_days: float = 7.0
    #: Case numbers a seat keeps in hand to give at save, online or offline (a block of this
    #: many is reserved from the central store whenever fewer than half are left); 0: the
    #: store numbers every case when it arrives.
    number_pool: int = Field(default=20, ge=0, le=200)
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
