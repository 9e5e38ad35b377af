"""Engines and migrations: SQLite by default (WAL), PostgreSQL by URL.

On SQLite every connection gets the ``sha256()`` SQL function the audit chain's trigger calls
(migration 0007); on PostgreSQL the pool pings connections that sat idle.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from agent_tui.server.audit_chain import sqlite_sha256

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=kw.pop("pool_size", 16),
            max_overflow=kw.pop("max_overflow", 16),
            **kw,
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # The audit chain's trigger hashes each new event (migration 0007).
            dbapi_connection.create_function("sha256", 1, sqlite_sha256, deterministic=True)

        return engine
    engine = sa.create_engine(
        url,
        pool_size=kw.pop("pool_size", 16),
        max_overflow=kw.pop("max_overflow", 16),
        **kw,
    )
    _ping_when_idle(engine)
    return engine


#: A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for connections that sat idle in the pool.

    A ping is a round trip; under load a connection comes back within milliseconds and the
    ping cost a tenth of a create (docs/benchmarks.md). A connection that waited longer than
    ``PING_AFTER_IDLE_SECONDS`` (the server may have restarted meanwhile) is pinged, and a dead
    one is replaced (``DisconnectionError`` makes the pool retry with a fresh connection).
    A connection that dies inside the window fails its request (a 503, see ``app``) and is
    dropped from the pool.

    The ping is the dialect's own (``pool_pre_ping``'s): psycopg's runs ``SELECT 1`` in
    autocommit, so the connection is handed out idle, outside any transaction. A bare
    ``SELECT 1`` would open one (psycopg begins implicitly), and every checkout that then asks
    for autocommit (the one-statement writes) failed: "can't change 'autocommit' now:
    connection in transaction status INTRANS", a 500 for each write after a quiet second.
    Should a ping still leave a transaction open (another driver), it is rolled back here.
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            if _in_transaction(dbapi_connection):
                dbapi_connection.rollback()
        except Exception as error:
            raise sa.exc.DisconnectionError(str(error)) from error


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether a psycopg connection is inside a transaction (other drivers: assume not)."""
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    return status is not None and getattr(status, "name", "IDLE") != "IDLE"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision``."""
    command.upgrade(alembic_config(url), revision)
