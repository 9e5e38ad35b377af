"""``agent-tui``: the one command of the project.

Without a sub-command it opens the terminal (``make run``). Server, seat and lead modes arrive
with their issues; every command here does real work.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agent_tui.config import Settings, config_path
from agent_tui.i18n import Language

cli = typer.Typer(
    name="agent-tui",
    help="驻马店 12345 热线坐席终端 / Seat terminal of the Zhumadian 12345 hotline.",
    no_args_is_help=False,
    add_completion=False,
)


@cli.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    """Open the demo (the embedded central store and a seat) when no command is given."""
    if ctx.invoked_subcommand is None:
        demo()


DEMO_USER, DEMO_PASSWORD, DEMO_LEAD = "agent01", "demo1234", "lead01"


@cli.command()
def demo(
    user: Annotated[str, typer.Option(help="demo account to log in as")] = DEMO_USER,
    cases: Annotated[int, typer.Option(min=0, help="demo cases seeded on first run")] = 3000,
    store_only: Annotated[
        bool, typer.Option("--store-only", help="run only the demo store, in the foreground")
    ] = False,
) -> None:
    """The demo: the central store on SQLite with demo data on 127.0.0.1:<demo_port> (joined if
    it runs already), real HTTP, and the seat terminal logged in as a demo agent."""
    if store_only:
        _run_demo_store(cases)
        return
    _run_demo(user, cases)


@contextlib.contextmanager
def _demo_store(cases: int) -> Iterator[Any]:
    """The demo's store: joined if one answers on ``demo_port``, else started as a child
    process (``demo --store-only``: the store's seed and requests run on the other core, not
    under this terminal's GIL) and stopped when the block ends. Its address is printed."""
    import subprocess

    from agent_tui.server.embedded import DemoStore, StoreProbe

    settings = _demo_settings()
    store = DemoStore(settings, port=settings.demo_port, demo_cases=cases)
    child: subprocess.Popen[bytes] | None = None
    found = StoreProbe.probe(store.url)
    if found == StoreProbe.NONE:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log = (settings.data_dir / "store.log").open("ab")
        child = subprocess.Popen(
            [sys.executable, "-m", "agent_tui.cli", "demo", "--store-only", "--cases", str(cases)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        found = _await_demo_store(store.url, child, settings.data_dir / "store.log")
    if found == StoreProbe.OTHER:
        typer.echo(store.taken_message(), err=True)
        raise typer.Exit(2)
    if child is not None and child.poll() is None:
        typer.echo(f"演示中心库：{store.url}（由本终端启动，退出即停止；日志 {store.log_path}）")
    else:
        typer.echo(f"演示中心库：{store.url}（已在运行，加入）")
    try:
        yield store
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()


def _await_demo_store(url: str, child: Any, log: Path, timeout: float = 60.0) -> str:
    """Until the store on the demo's port answers (ours, or one another terminal started at
    the same moment); exit 2 with the log's last lines if none comes."""
    import time

    from agent_tui.server.embedded import StoreProbe

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = StoreProbe.probe(url, timeout=0.5)
        if found != StoreProbe.NONE:
            return found
        if child.poll() not in (None, 0):
            break
        time.sleep(0.05)
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
    typer.echo(f"演示中心库未能在 {url} 启动：\n" + "\n".join(tail), err=True)
    raise typer.Exit(2)


def _run_demo_store(cases: int) -> None:
    """``demo --store-only``: the demo's store in the foreground until Ctrl+C (or SIGTERM)."""
    import signal

    from agent_tui.server.embedded import DemoStore, PortTaken

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    _server_log()  # the store's start-up times and refusals (into store.log when a child)
    settings = _demo_settings()
    store = DemoStore(settings, port=settings.demo_port, demo_cases=cases)
    try:
        store.start()
    except (PortTaken, RuntimeError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    try:
        if not store.serving:
            typer.echo(f"演示中心库已在运行：{store.url} / the demo store runs already", err=True)
            raise typer.Exit(1)
        typer.echo(f"演示中心库：{store.url}（正在启动；首次运行载入演示数据）", err=True)
        store.wait_ready()
        typer.echo(store.summary, err=True)
        typer.echo(f"演示中心库已就绪：{store.url}（Ctrl+C 停止）", err=True)
        store.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        store.stop()


def _run_demo(user: str, cases: int, start: str = "") -> None:
    from agent_tui.client.last_login import LoginForm

    with _demo_store(cases) as store:
        _run_seat(
            store.settings,
            LoginForm(
                store.url,
                user,
                DEMO_PASSWORD,
                store_key="demo",
                hint=f"演示账号：{user} / {DEMO_PASSWORD}（已填好，按 Enter 登录）",
            ),
            start,
        )


def _demo_settings() -> Settings:
    """The demo's own data dir and SQLite store, apart from a real centre's."""
    settings = Settings()
    return settings.model_copy(
        update={
            "data_dir": settings.data_dir / "demo",
            "db_url": f"sqlite:///{settings.data_dir / 'demo' / 'central.db'}",
        }
    )


#: The login form's fields, as the seat and the lead console take them.
ServerOption = Annotated[
    str, typer.Option("--server", help="central store URL (default: the last one used)")
]
UserOption = Annotated[str, typer.Option(help="user id (default: the last one used)")]
PasswordOption = Annotated[
    str, typer.Option(envvar="AGENT_TUI_PASSWORD", help="fills the login form")
]


DemoOption = Annotated[
    bool,
    typer.Option("--demo", help="on the demo store (joined, or started if none runs)"),
]
CasesOption = Annotated[int, typer.Option(min=0, help="with --demo: cases seeded on first run")]


@cli.command()
def seat(
    server: ServerOption = "",
    user: UserOption = "",
    password: PasswordOption = "",
    demo: DemoOption = False,
    cases: CasesOption = 3000,
) -> None:
    """Open the seat terminal against a real central store (the login screen first)."""
    if demo:
        _run_demo(user or DEMO_USER, cases)
        return
    from agent_tui.client.last_login import LoginForm

    _run_seat(Settings(), LoginForm(server, user, password))


@cli.command()
def lead(
    server: ServerOption = "",
    user: UserOption = "",
    password: PasswordOption = "",
    demo: DemoOption = False,
    cases: CasesOption = 3000,
) -> None:
    """The terminal in lead mode: the shift lead's board (queues, seats, overdue, KPIs)."""
    if demo:
        _run_demo(user or DEMO_LEAD, cases, "board")
        return
    from agent_tui.client.last_login import LoginForm

    _run_seat(Settings(), LoginForm(server, user, password), "board")


def _run_seat(settings: Settings, form: Any, start: str = "") -> None:
    from agent_tui.app import make_app

    make_app(settings, login=form, start=start).run()


@cli.command()
def lookup() -> None:
    """Open the reference lookup alone (addresses, categories, departments, knowledge)."""
    from agent_tui.app import make_app

    make_app(Settings()).run()


class ReportKind(StrEnum):
    daily = "daily"
    monthly = "monthly"


@cli.command()
def report(
    kind: Annotated[ReportKind, typer.Argument(help="daily（日报）| monthly（月报）")],
    on: Annotated[
        str,
        typer.Option("--date", help="YYYY-MM-DD: the day, or a day of the month (default: today)"),
    ] = "",
    server: Annotated[
        str, typer.Option("--server", help="central store URL (default: the demo's, started here)")
    ] = "",
    user: Annotated[
        str, typer.Option(help=f"a lead or admin (default on the demo: {DEMO_LEAD})")
    ] = "",
    password: Annotated[
        str, typer.Option(envvar="AGENT_TUI_PASSWORD", help="omit to be asked")
    ] = "",
    out: Annotated[Path | None, typer.Option(help="the Excel workbook to write (.xlsx)")] = None,
    text: Annotated[
        bool, typer.Option("--text", help="print the text summary (and write --out if given)")
    ] = False,
) -> None:
    """Write the daily or monthly report (Excel: overview, by department, by county, overdue
    list) from a central store, or print its summary to paste into a message."""
    import asyncio
    from datetime import date, datetime

    from agent_tui.domain.calendar import SHANGHAI

    try:
        day = date.fromisoformat(on) if on else datetime.now(SHANGHAI).date()
    except ValueError as exc:
        raise typer.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--date") from exc
    target = out
    if target is None and not text:
        stamp = day.isoformat() if kind is ReportKind.daily else day.strftime("%Y-%m")
        target = Path(f"report-{kind.value}-{stamp}.xlsx")
    with contextlib.ExitStack() as stack:
        if not server:
            typer.echo("未指定 --server：使用演示中心库", err=True)
            with contextlib.redirect_stdout(sys.stderr):
                demo_store = stack.enter_context(_demo_store(3000))
            demo_store.wait_ready()
            server = demo_store.url
            user, password = user or DEMO_LEAD, password or DEMO_PASSWORD
        if not user:
            raise typer.BadParameter("请用 --user 指定班长或管理员账号", param_hint="--user")
        password = password or typer.prompt("密码 / password", hide_input=True)
        summary = asyncio.run(_write_report(server, user, password, kind.value, day, target, text))
    if summary:
        typer.echo(summary)
    if target is not None:
        typer.echo(f"已写入 {target}", err=True)


async def _write_report(
    server: str, user: str, password: str, kind: str, day: Any, target: Path | None, text: bool
) -> str:
    """Fetch the report over HTTP and write it; a readable message and exit 2 on failure."""
    from agent_tui.client.api import ApiClient, ApiError, Offline, Unauthorized
    from agent_tui.client.report import build_workbook, fetch_report, text_summary

    client = ApiClient(server, user, password)
    try:
        data = await fetch_report(client, kind, day)  # type: ignore[arg-type]
    except Offline as exc:
        typer.echo(f"无法连接中心库 {server}：{exc.message}", err=True)
        raise typer.Exit(2) from exc
    except Unauthorized as exc:
        typer.echo(f"登录失败（{user}）：{exc.message}", err=True)
        raise typer.Exit(2) from exc
    except ApiError as exc:
        typer.echo(f"中心库拒绝了请求：{exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        await client.aclose()
    if target is not None:
        try:
            build_workbook(data, target)
        except OSError as exc:
            typer.echo(f"无法写入 {target}：{exc.strerror or exc}", err=True)
            raise typer.Exit(2) from exc
    return text_summary(data) if text else ""


class Place(StrEnum):
    config = "config"
    data = "data"


@cli.command()
def locate(what: Annotated[Place, typer.Argument(help="config | data")] = Place.config) -> None:
    """Print where the configuration file or the data directory is."""
    typer.echo(config_path() if what is Place.config else Settings().data_dir)


KEYS_START, KEYS_END = "<!-- keys:start -->", "<!-- keys:end -->"


def readme_with_keys(readme: str, table: str) -> str:
    """``readme`` with the text between the key markers replaced by ``table``."""
    head, _, rest = readme.partition(KEYS_START)
    _, _, tail = rest.partition(KEYS_END)
    return f"{head}{KEYS_START}\n{table}{KEYS_END}{tail}"


@cli.command()
def keys(
    write: Annotated[
        Path | None, typer.Option(help="rewrite the key table between the markers of this file")
    ] = None,
    lang: Annotated[Language, typer.Option(help="zh (the README's table) or en")] = "zh",
) -> None:
    """Print the key table (Markdown) generated from the bindings; the README includes it."""
    from agent_tui.app import key_rows
    from agent_tui.i18n import set_language
    from agent_tui.keys import localize_bindings, markdown_table

    set_language(lang)
    localize_bindings()
    table = markdown_table(key_rows())
    if write is None:
        typer.echo(table, nl=False)
        return
    write.write_text(readme_with_keys(write.read_text(encoding="utf-8"), table), encoding="utf-8")


class Kind(StrEnum):
    address = "address"
    category = "category"
    department = "department"
    knowledge = "knowledge"


@cli.command()
def search(
    query: str,
    kind: Annotated[Kind, typer.Option("--kind", "-k")] = Kind.address,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500)] = 10,
    county: Annotated[str | None, typer.Option(help="address search within one county")] = None,
) -> None:
    """Search the reference data the way the pick-lists do (汉字, pinyin or initials)."""
    from agent_tui.data.indexes import default_indexes

    addresses, categories, departments, knowledge = default_indexes()
    if kind is Kind.address:
        try:
            matches = addresses.search(query, limit, county=county)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--county") from exc
        for m in matches:
            typer.echo(f"{m.entry.level.label}\t{m.path}\t[{m.kind.label}]")
        if not matches:
            typer.echo("无匹配地址", err=True)
            raise typer.Exit(1)
        return
    index = {Kind.category: categories, Kind.department: departments, Kind.knowledge: knowledge}
    for hit in index[kind].search(query, limit):  # type: ignore[attr-defined]
        payload = hit.entry.payload
        code = getattr(payload, "code", getattr(payload, "id", ""))
        typer.echo(f"{code}\t{hit.entry.name}\t[{hit.kind.label}]")


class Format(StrEnum):
    csv = "csv"
    osm = "osm"


@cli.command("import-addresses")
def import_addresses(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.csv,
    county: Annotated[str, typer.Option(help="county of an OSM extract's objects")] = "驿城区",
    out: Annotated[Path | None, typer.Option(help="address book to write")] = None,
) -> None:
    """Import a centre's address list (CSV) or an OpenStreetMap extract into the address book.

    The result is written as the centre's address book CSV (by default
    ``<data dir>/address_book.csv``), which the terminal adds to the gazetteer.
    """
    from agent_tui.data.addresses import import_osm, read_address_csv, write_address_csv

    try:
        entries = read_address_csv(source) if fmt is Format.csv else import_osm(source, county)
    except ValueError as exc:
        typer.echo(f"导入失败：{exc}", err=True)
        raise typer.Exit(2) from exc
    target = out or Settings().data_dir / "address_book.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_address_csv(entries, target)
    typer.echo(f"已导入 {len(entries)} 条地址 → {target}")


# --- the central store ----------------------------------------------------------------------


def _settings(db: str | None) -> Settings:
    settings = Settings()
    if db:
        settings = settings.model_copy(update={"db_url": db})
    return settings


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL (default: SQLite under the data dir)"),
]


@cli.command()
def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (PostgreSQL)")] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            help="log every request (off by default: 100 seats long-polling the feed make a "
            "line per seat per change; the audit log is in the database)"
        ),
    ] = False,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="serve HTTPS: the certificate (PEM, with its chain)")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="serve HTTPS: the certificate's private key (PEM)")
    ] = None,
) -> None:
    """Run the central store (FastAPI) that every seat and lead console talks to."""
    import os
    import time

    import uvicorn

    started = time.monotonic()
    _server_log()
    settings = _settings(db)
    certfile, keyfile = _tls(
        ssl_certfile or settings.ssl_certfile, ssl_keyfile or settings.ssl_keyfile
    )
    # Once, before listening (and before the workers): the schema at the code's revision
    # (SQLite's recovery after a crash happens here too, ≈ 0.3 s), as the owner if configured.
    try:
        _ensure_schema(settings)
        _warn_if_the_log_is_exposed(settings)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # a database that cannot be opened: say so, no traceback
        typer.echo(f"中心库未能启动：{exc}", err=True)
        raise typer.Exit(1) from exc
    if workers > 1:
        if settings.database_url().startswith("sqlite"):
            typer.echo(
                "SQLite 只支持单进程；多进程请使用 PostgreSQL（--db postgresql+psycopg://…）"
            )
            raise typer.Exit(2)
        # Workers import the app by factory; they read their settings from the environment.
        os.environ["AGENT_TUI_DB_URL"] = settings.database_url()
        uvicorn.run(
            "agent_tui.server.asgi:app",
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level="info",
            access_log=access_log,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        return
    from agent_tui.server.boot import Booting

    def make() -> Any:
        """The store, made while the server already answers "starting" (``Booting``)."""
        import logging

        log = logging.getLogger("agent_tui.server")
        at = time.monotonic()
        from agent_tui.server.app import create_app

        app = create_app(settings, run_migrations=False)
        log.info("store: app made in %.2f s", time.monotonic() - at)
        return app

    booting = Booting(make, started=started)
    server = uvicorn.Server(
        uvicorn.Config(
            booting,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
            access_log=access_log,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
    )
    booting.stop = lambda: setattr(server, "should_exit", True)
    server.run()
    if booting.error:
        typer.echo(f"中心库未能启动：{booting.error}", err=True)
        raise typer.Exit(1)


def _server_log() -> None:
    """The store's own log lines (refusals, start-up times) beside uvicorn's, with times."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("agent_tui")
    if not logger.handlers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _tls(certfile: Path | None, keyfile: Path | None) -> tuple[str | None, str | None]:
    """uvicorn's TLS options, checked first: both files or neither, each readable, the key
    the certificate's (an error message and exit code 2, not a traceback)."""
    if certfile is None and keyfile is None:
        return None, None
    if certfile is None or keyfile is None:
        typer.echo("HTTPS 需要同时给出证书和私钥（--ssl-certfile 与 --ssl-keyfile）", err=True)
        raise typer.Exit(2)
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        typer.echo(f"无法使用证书 {certfile} 与私钥 {keyfile}：{exc}", err=True)
        raise typer.Exit(2) from exc
    return str(certfile), str(keyfile)


@cli.command()
def seed(
    db: DbOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="also load demo users and cases")] = False,
    cases: Annotated[int, typer.Option(min=0, help="number of demo cases")] = 3000,
) -> None:
    """Load the reference data (and with --demo, demo accounts and a month of cases)."""
    from agent_tui.server.seed import seed_database

    settings = _settings(db)
    if not db and settings.db_owner_url:
        # Loading data (demo cases set the cases' id sequence) is the owner's to do.
        settings = settings.model_copy(update={"db_url": settings.db_owner_url})
    summary = seed_database(settings, demo=demo, cases=cases)
    url = settings.database_url()
    typer.echo(summary.replace(url, _masked(url)))  # no password on the screen


def _insufficient_privilege(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", "") == "42501"


def _runtime_role_of(owner_url: str, url: str) -> str:
    """The role ``url`` logs in as, when it is another PostgreSQL role than ``owner_url``'s."""
    from agent_tui.server.pg_roles import user_of

    if not (owner_url.startswith("postgresql") and url.startswith("postgresql")):
        return ""
    runtime = user_of(url)
    return runtime if runtime and runtime != user_of(owner_url) else ""


def _ensure_schema(settings: Settings) -> None:
    """Bring the schema to the code's revision before serving: as the owner when
    ``db_owner_url`` is set (and grant the runtime role its rights), else as ``db_url``'s role.
    A runtime role cannot migrate: a schema that is behind then stops the start with a
    readable message instead of a traceback."""
    import sqlalchemy as sa

    from agent_tui.server import pg_roles
    from agent_tui.server.db import migrate

    url, owner = settings.database_url(), settings.db_owner_url
    try:
        if owner and owner != url:
            migrate(owner)
            runtime = _runtime_role_of(owner, url)
            if runtime:
                pg_roles.grant(owner, runtime)
        else:
            migrate(url)
    except sa.exc.DBAPIError as exc:
        if not _insufficient_privilege(exc):
            raise
        typer.echo(
            "数据库结构需要升级，但当前角色无权修改结构（运行角色只读写数据）。请用属主账号运行："
            "agent-tui migrate --db <属主的数据库 URL>，或设置 AGENT_TUI_DB_OWNER_URL。\n"
            "The schema needs migrating and this role may not change it: run "
            "`agent-tui migrate --db <owner URL>` (or set AGENT_TUI_DB_OWNER_URL).",
            err=True,
        )
        raise typer.Exit(2) from exc


def _warn_if_the_log_is_exposed(settings: Settings) -> None:
    """Say so (stderr, and the server log) when the store's own role could rewrite the audit
    log: the owner of the tables, a superuser, or a role with UPDATE/DELETE/TRUNCATE on it."""
    import logging

    from agent_tui.server.db import make_engine
    from agent_tui.server.pg_roles import exposure

    engine = make_engine(settings.database_url(), pool_size=1, max_overflow=0)
    try:
        found = exposure(engine)
    finally:
        engine.dispose()
    if found:
        message = (
            "警告：中心库的数据库角色可以改写审计日志（"
            + "；".join(found)
            + "）。生产环境请分开属主与运行角色：见 README「PostgreSQL」一节的两个角色。"
        )
        logging.getLogger("agent_tui.server").warning(message)
        typer.echo(message, err=True)


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@cli.command("migrate")
def migrate_command(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="the owner's SQLAlchemy URL (default: AGENT_TUI_DB_OWNER_URL, else the store's)",
        ),
    ] = None,
    grant_to: Annotated[
        str,
        typer.Option(
            help="PostgreSQL: the runtime role to grant its rights to afterwards (default: the "
            "role of AGENT_TUI_DB_URL when it differs from the owner's)"
        ),
    ] = "",
) -> None:
    """Create or upgrade the store's schema (run as the owner role on PostgreSQL)."""
    from agent_tui.server import pg_roles
    from agent_tui.server.db import migrate

    settings = Settings()
    url = db or settings.db_owner_url or settings.database_url()
    grant_to = grant_to or _runtime_role_of(url, settings.database_url())
    try:
        migrate(url)
        statements = pg_roles.grant(url, grant_to) if grant_to else []
    except pg_roles.RoleSetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except Exception as exc:
        if not _insufficient_privilege(exc):
            raise
        typer.echo(f"权限不足：{getattr(exc, 'orig', exc)}（迁移须以属主角色运行）", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"数据库结构已是最新 → {_masked(url)}")
    for statement in statements:
        typer.echo(f"  {statement};")


db_cli = typer.Typer(help="PostgreSQL roles of the central store (DBA).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("create-roles")
def db_create_roles(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            help="a superuser's URL, e.g. postgresql+psycopg://postgres@host/postgres "
            "(not needed with --sql)",
        ),
    ] = "",
    owner: Annotated[
        str, typer.Option(help="the owner role: runs the migrations, owns the tables")
    ] = "agent_tui_owner",
    runtime: Annotated[
        str, typer.Option(help="the runtime role that agent-tui serve logs in as")
    ] = "agent_tui_app",
    database: Annotated[
        str, typer.Option(help="the store's database (made if missing)")
    ] = "agent_tui",
    owner_password: Annotated[
        str, typer.Option(envvar="AGENT_TUI_DB_OWNER_PASSWORD", help="omit to be asked")
    ] = "",
    runtime_password: Annotated[
        str, typer.Option(envvar="AGENT_TUI_DB_RUNTIME_PASSWORD", help="omit to be asked")
    ] = "",
    no_passwords: Annotated[
        bool,
        typer.Option("--no-passwords", help="set no passwords (pg_hba: peer, cert or trust)"),
    ] = False,
    reassign_from: Annotated[
        str,
        typer.Option(help="a store made by one role: give that role's objects to the owner"),
    ] = "",
    sql: Annotated[
        bool,
        typer.Option(
            "--sql",
            help="print the SQL for psql instead of running it (passwords as the psql "
            "variables owner_password and runtime_password)",
        ),
    ] = False,
) -> None:
    """Create the owner and the runtime role, the database (owned by the owner) and the
    schema's rights: once, as a superuser (safe to run again). Then `agent-tui migrate` as the
    owner with --grant-to the runtime role, and `agent-tui serve` as the runtime role."""
    from agent_tui.server import pg_roles

    try:
        if sql:
            _print_roles_sql(owner, runtime, database, reassign_from)
            return
        if not db:
            raise pg_roles.RoleSetupError(
                "请用 --db 给出超级用户的数据库 URL（或用 --sql 只打印 SQL）"
            )
        passwords = [pg_roles.Password(), pg_roles.Password()]
        if not no_passwords:
            owner_password = owner_password or _password(None)
            runtime_password = runtime_password or _password(None)
            passwords = [pg_roles.Password(owner_password), pg_roles.Password(runtime_password)]
        done = pg_roles.create_roles(
            db, owner, runtime, database, passwords[0], passwords[1], reassign_from=reassign_from
        )
    except pg_roles.RoleSetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    for statement in done:
        typer.echo(f"{statement};")
    base = pg_roles.with_database(db, database)
    typer.echo("下一步 / next:")
    owner_url = _masked(pg_roles.with_user(base, owner, "…" if not no_passwords else None))
    runtime_url = _masked(pg_roles.with_user(base, runtime, "…" if not no_passwords else None))
    typer.echo(f"  agent-tui migrate --db {owner_url} --grant-to {runtime}")
    typer.echo(f"  agent-tui serve --db {runtime_url}")


def _print_roles_sql(owner: str, runtime: str, database: str, reassign_from: str) -> None:
    """``db create-roles --sql``: the same statements as a psql script."""
    from agent_tui.server import pg_roles

    statements = pg_roles.create_roles_sql(
        owner,
        runtime,
        pg_roles.Password(psql_variable="owner_password"),
        pg_roles.Password(psql_variable="runtime_password"),
    )
    inside = pg_roles.reassign_sql(reassign_from, owner) if reassign_from else []
    inside += pg_roles.database_sql(database, owner, runtime)
    typer.echo("-- psql -v owner_password=… -v runtime_password=… -f roles.sql")
    for statement in statements:
        typer.echo(f"{statement};")
    typer.echo(
        f"SELECT 'CREATE DATABASE {database} OWNER {owner} ENCODING ''UTF8''' WHERE NOT EXISTS "
        f"(SELECT 1 FROM pg_database WHERE datname = '{database}') \\gexec"
    )
    typer.echo(f"\\connect {database}")
    for statement in inside:
        typer.echo(f"{statement};")


@db_cli.command("grant")
def db_grant(
    runtime: Annotated[str, typer.Option(help="the runtime role")] = "agent_tui_app",
    db: Annotated[
        str | None,
        typer.Option("--db", help="the owner's URL (default: AGENT_TUI_DB_OWNER_URL)"),
    ] = None,
) -> None:
    """Grant the runtime role its rights on every table there is (run as the owner; `agent-tui
    migrate --grant-to` does it after each migration)."""
    from agent_tui.server import pg_roles

    url = db or Settings().db_owner_url
    if not url:
        typer.echo("请用 --db 给出属主的数据库 URL（或设置 AGENT_TUI_DB_OWNER_URL）", err=True)
        raise typer.Exit(2)
    try:
        statements = pg_roles.grant(url, runtime)
    except pg_roles.RoleSetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    for statement in statements:
        typer.echo(f"{statement};")


@db_cli.command("check")
def db_check(db: DbOption = None) -> None:
    """Whether the store's role could rewrite the audit log (exit 1 if it could)."""
    from agent_tui.server.db import make_engine
    from agent_tui.server.pg_roles import exposure, user_of

    url = _settings(db).database_url()
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        found = exposure(engine)
    finally:
        engine.dispose()
    for line in found:
        typer.echo(line)
    if found:
        raise typer.Exit(1)
    who = user_of(url) or "SQLite"
    typer.echo(f"{who}：不能改写审计日志（只能读取和追加）/ cannot rewrite the audit log")


audit_cli = typer.Typer(help="The audit log (审计日志) and its hash chain.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify(
    db: DbOption = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            help="POSITION:HASH as an earlier run printed the head (kept outside the database); "
            "the link there must still have that hash. Repeatable."
        ),
    ] = None,
) -> None:
    """Walk the audit log's hash chain: "clean, N events" (exit 0), or the first broken event
    (its link, id, case number and what differs; exit 1)."""
    import sqlalchemy as sa

    from agent_tui.server.audit_chain import parse_anchor, verify
    from agent_tui.server.db import make_engine

    url = _settings(db).database_url()
    try:
        anchors = [parse_anchor(a) for a in anchor or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--anchor") from exc
    if url.startswith("sqlite") and ":memory:" not in url:
        path = Path(url.split("///", 1)[1])
        if not path.exists():
            typer.echo(f"没有这个中心库：{path}", err=True)
            raise typer.Exit(2)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        report = verify(engine, anchors=anchors)
    except sa.exc.DBAPIError as exc:
        typer.echo(
            f"无法读取审计链（数据库结构是否已迁移到最新？agent-tui migrate）：{exc.orig}",
            err=True,
        )
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    head = f"{report.head_position}:{report.head_hash}"
    if report.clean:
        typer.echo(f"审计链完好：{report.events} 条事件，链头 {head}")
        typer.echo(f"audit chain clean, {report.events} events, head {head}")
        return
    first = report.breaks[0]
    typer.echo(f"审计链有 {report.broken} 处不符；第一处在{first.describe()}")
    typer.echo(f"audit chain broken ({report.broken}): first at {first.describe_en()}")
    for more in report.breaks[1:]:
        typer.echo(f"  另：{more.describe()}")
    if report.broken > len(report.breaks):
        typer.echo(f"  …另有 {report.broken - len(report.breaks)} 处未列出")
    raise typer.Exit(1)


user_cli = typer.Typer(help="Accounts of the central store (admins).", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


class RoleName(StrEnum):
    agent = "agent"
    lead = "lead"
    department = "department"
    admin = "admin"
    leader = "leader"


def _accounts(db: str | None) -> Any:
    from agent_tui.server.auth import Accounts
    from agent_tui.server.db import make_engine, migrate

    settings = _settings(db)
    migrate(settings.database_url())
    return Accounts.from_settings(make_engine(settings.database_url()), settings)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A rule the store refuses (unknown user, short password, …): its message, exit code 2."""
    from agent_tui.domain.errors import DomainError

    try:
        yield
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc


def _password(password: str | None) -> str:
    return password or typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@user_cli.command("add")
def user_add(
    user_id: str,
    role: Annotated[RoleName, typer.Option(help="agent | lead | department | admin | leader")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    department: Annotated[str, typer.Option(help="department code (role department)")] = "",
    platform: Annotated[str, typer.Option(help="platform code (county platforms)")] = "city",
    password: Annotated[str | None, typer.Option(help="omit to be asked")] = None,
    db: DbOption = None,
) -> None:
    """Create an account."""
    from datetime import UTC, datetime

    from agent_tui.domain.case import Role

    with _refusals():
        _accounts(db).add_user(
            user_id,
            name,
            Role(role.value),
            _password(password),
            now=datetime.now(UTC),
            department=department,
            platform=platform,
        )
    typer.echo(f"已创建用户 {user_id}（{Role(role.value).label}）")


@user_cli.command("passwd")
def user_passwd(
    user_id: str,
    password: Annotated[str | None, typer.Option(help="omit to be asked")] = None,
    db: DbOption = None,
) -> None:
    """Set a new password (logs the user out everywhere)."""
    with _refusals():
        _accounts(db).set_password(user_id, _password(password))
    typer.echo(f"已修改 {user_id} 的密码")


@user_cli.command("disable")
def user_disable(
    user_id: str,
    enable: Annotated[bool, typer.Option("--enable", help="re-enable instead")] = False,
    db: DbOption = None,
) -> None:
    """Disable an account (and end its sessions), or --enable it again."""
    with _refusals():
        _accounts(db).set_disabled(user_id, not enable)
    typer.echo(f"已{'启用' if enable else '停用'} {user_id}")


calendar_cli = typer.Typer(
    help="The working-day calendar (holidays and 调休 working days).", no_args_is_help=True
)
cli.add_typer(calendar_cli, name="calendar")


@calendar_cli.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(help="TOML or CSV of one or more years")],
    db: DbOption = None,
) -> None:
    """Load a year's holiday schedule (the State Council's notice) into the store's calendar:
    deadlines in that year are no longer provisional."""
    from agent_tui.data.calendar import calendar_body, merged, read_schedule_file
    from agent_tui.data.calendar import schedules_from_body as stored_schedules
    from agent_tui.server.db import make_engine, migrate
    from agent_tui.server.errors import NotFound
    from agent_tui.server.reference_sets import CALENDAR
    from agent_tui.server.store import Store

    try:
        added = read_schedule_file(file)
    except ValueError as exc:
        typer.echo(f"节假日安排有误：{exc}", err=True)
        raise typer.Exit(2) from exc
    settings = _settings(db)
    if not db and settings.db_owner_url:
        settings = settings.model_copy(update={"db_url": settings.db_owner_url})
    migrate(settings.database_url())
    store = Store(make_engine(settings.database_url()), settings)
    try:
        stored = store.references.reference_set(CALENDAR)
        before = stored_schedules(json.loads(stored.body))
    except NotFound:
        before = []
    info = store.put_reference_set(CALENDAR, calendar_body(merged(before, added)))
    for schedule in added:
        typer.echo(
            f"{schedule.year} 年：放假 {len(schedule.holidays)} 天，调休上班 "
            f"{len(schedule.workdays)} 天"
            + (f"（{schedule.published}）" if schedule.published else "")
        )
    typer.echo(f"中心库的节假日安排已更新（第 {info.version} 版）；运行中的中心库一分钟内采用")


@cli.command()
def clock(db: DbOption = None) -> None:
    """Run the clock jobs once (reminders, overdue notices); the server runs them by itself."""
    from agent_tui.server.db import make_engine, migrate
    from agent_tui.server.store import Store

    settings = _settings(db)
    migrate(settings.database_url())
    taken = Store(make_engine(settings.database_url()), settings).run_clock()
    typer.echo(f"督办步骤：{taken}")


def command() -> Any:
    """The click command typer builds from ``cli``, its help in the configured language
    (``cli_help``): what ``agent-tui`` runs and what the help test renders."""
    import typer.main

    from agent_tui.cli_help import localize
    from agent_tui.i18n import set_language

    try:
        set_language(Settings().language)
    except Exception:  # a broken config file: --help still answers, in Chinese
        set_language("zh")
    built = typer.main.get_command(cli)
    localize(built)
    return built


def main() -> None:
    command()(prog_name="agent-tui")


if __name__ == "__main__":  # ``python -m agent_tui.cli``: how the demo starts its store
    main()
