"""``agent-tui``: the one command of the project.

Without a sub-command it opens the terminal (``make run``). Server, seat and lead modes arrive
with their issues; every command here does real work.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agent_tui.config import Settings, config_path

cli = typer.Typer(
    name="agent-tui",
    help="驻马店 12345 热线坐席终端 / Seat terminal of the Zhumadian 12345 hotline.",
    no_args_is_help=False,
    add_completion=False,
)


@cli.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    """Open the terminal when no command is given."""
    if ctx.invoked_subcommand is None:
        run()


@cli.command()
def run() -> None:
    """Open the terminal (reference lookup: addresses, categories, departments, knowledge)."""
    from agent_tui.app import make_app

    make_app(Settings()).run()


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
) -> None:
    """Print the key table (Markdown) generated from the bindings; the README includes it."""
    from agent_tui.app import key_rows
    from agent_tui.keys import markdown_table

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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
