"""``agent-tui``: the one command of the project.

Without a sub-command it opens the terminal (``make run``). Server, seat and lead modes arrive
with their issues; every command here does real work.
"""

from __future__ import annotations

import contextlib
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


DEMO_USER, DEMO_PASSWORD = "agent01", "demo1234"


@cli.command()
def demo(
    user: Annotated[str, typer.Option(help="demo account to log in as")] = DEMO_USER,
    cases: Annotated[int, typer.Option(min=0, help="demo cases seeded on first run")] = 3000,
) -> None:
    """The embedded default: a central store on SQLite (demo data) in-process, real HTTP,
    and the seat terminal logged in as a demo agent."""
    _run_demo(user, cases)


def _run_demo(user: str, cases: int, start: str = "") -> None:
    from agent_tui.server.embedded import EmbeddedServer

    demo_settings = _demo_settings()
    from agent_tui.client.last_login import LoginForm

    server = EmbeddedServer(demo_settings, demo_cases=cases)
    typer.echo("正在启动演示中心库（首次运行会载入演示数据）…")
    server.start()
    try:
        _run_seat(
            demo_settings,
            LoginForm(
                server.url,
                user,
                DEMO_PASSWORD,
                store_key="demo",
                hint=f"演示账号：{user} / {DEMO_PASSWORD}（已填好，按 Enter 登录）",
            ),
            start,
        )
    finally:
        server.stop()


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


@cli.command()
def seat(
    server: ServerOption = "",
    user: UserOption = "",
    password: PasswordOption = "",
) -> None:
    """Open the seat terminal against a real central store (the login screen first)."""
    from agent_tui.client.last_login import LoginForm

    _run_seat(Settings(), LoginForm(server, user, password))


@cli.command()
def lead(
    server: ServerOption = "",
    user: UserOption = "",
    password: PasswordOption = "",
    demo: Annotated[
        bool, typer.Option("--demo", help="on the embedded demo store, as lead01")
    ] = False,
    cases: Annotated[
        int, typer.Option(min=0, help="with --demo: cases seeded on first run")
    ] = 3000,
) -> None:
    """The terminal in lead mode: the shift lead's board (queues, seats, overdue, KPIs)."""
    if demo:
        _run_demo(user or "lead01", cases, "board")
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


DEMO_LEAD = "lead01"


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
            from agent_tui.server.embedded import EmbeddedServer

            embedded = EmbeddedServer(_demo_settings())
            typer.echo("未指定 --server：使用演示中心库（首次运行会载入演示数据）…", err=True)
            embedded.start()
            stack.callback(embedded.stop)
            server = embedded.url
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
) -> None:
    """Run the central store (FastAPI) that every seat and lead console talks to."""
    import os

    import uvicorn

    settings = _settings(db)
    from agent_tui.server.db import migrate

    migrate(settings.database_url())
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
        )
        return
    from agent_tui.server.app import create_app

    app = create_app(settings, run_migrations=False)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=access_log,
    )


@cli.command()
def seed(
    db: DbOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="also load demo users and cases")] = False,
    cases: Annotated[int, typer.Option(min=0, help="number of demo cases")] = 3000,
) -> None:
    """Load the reference data (and with --demo, demo accounts and a month of cases)."""
    from agent_tui.server.seed import seed_database

    settings = _settings(db)
    summary = seed_database(settings, demo=demo, cases=cases)
    typer.echo(summary)


user_cli = typer.Typer(help="Accounts of the central store (admins).", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


class RoleName(StrEnum):
    agent = "agent"
    lead = "lead"
    department = "department"
    admin = "admin"


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
    role: Annotated[RoleName, typer.Option(help="agent | lead | department | admin")],
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


@cli.command()
def clock(db: DbOption = None) -> None:
    """Run the clock jobs once (reminders, overdue notices); the server runs them by itself."""
    from agent_tui.server.db import make_engine, migrate
    from agent_tui.server.services import Store

    settings = _settings(db)
    migrate(settings.database_url())
    taken = Store(make_engine(settings.database_url()), settings).run_clock()
    typer.echo(f"督办步骤：{taken}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
