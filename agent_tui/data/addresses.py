"""Address data: the packaged gazetteer and starter roads, a centre's own CSV, OSM extracts.

CSV format for a centre's address book (and the starter roads)::

    level,county,township,village,name,aliases,source[,code]

``level`` is county/township/village/road/crossing/poi (or 县区/乡镇街道/村社区/道路/交叉口/地标);
several aliases are separated by ``|``. Crossings are named "甲路与乙路交叉口".
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Collection, Iterable, Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TextIO

from agent_tui.data.pinyin_table import use_packaged_readings
from agent_tui.domain.address import (
    AddressEntry,
    AddressIndex,
    AddressLevel,
    crossing_roads,
)

GAZETTEER_FILE = "zhumadian_gazetteer.csv"
STARTER_ROADS_FILE = "roads_zhumadian_starter.csv"
ADDRESS_COLUMNS = ("level", "county", "township", "village", "name", "aliases", "source")
ALIAS_SEPARATOR = "|"

_GAZETTEER_LEVELS = {
    "3": AddressLevel.COUNTY,
    "4": AddressLevel.TOWNSHIP,
    "5": AddressLevel.VILLAGE,
}

#: Names callers use for county-level units whose official name is long. The functional zones
#: 高新区 and 城乡一体化示范区 are in neither official source; a centre adds them in its own CSV.
COUNTY_ALIASES: dict[str, tuple[str, ...]] = {
    "河南驻马店经济开发区": ("驻马店经济开发区", "经济开发区", "开发区", "经开区"),
}


#: The central city: the city platform's callers mostly live here, so it ranks first.
CENTRAL_CITY: tuple[str, ...] = ("驿城区", "河南驻马店经济开发区")


def _resource_text(name: str) -> TextIO:
    use_packaged_readings()  # the index over packaged names then needs no pypinyin
    # newline="" as the csv module wants; Traversable.open() does not take it, so decode here.
    data = files("agent_tui.data").joinpath(name).read_bytes().decode("utf-8")
    return io.StringIO(data, newline="")


def load_gazetteer() -> list[AddressEntry]:
    """Counties, townships and villages of Zhumadian (11 + 208 + 2,906 entries)."""
    entries: list[AddressEntry] = []
    with _resource_text(GAZETTEER_FILE) as f:
        reader = csv.reader(f)  # not DictReader: a dict per row is half the read time
        header = next(reader)
        columns = "level county township village name alias code_mca2025 code_nbs2023 source"
        level_, county, township, village, name_, alias_, mca, nbs, source = map(
            header.index, columns.split()
        )
        for row in reader:
            level = _GAZETTEER_LEVELS[row[level_]]
            name = row[name_]
            aliases: tuple[str, ...] = ()
            if level is AddressLevel.COUNTY:
                aliases = COUNTY_ALIASES.get(name, ())
            elif row[alias_] and row[alias_] != name:
                aliases = (row[alias_],)  # the official committee name (…村民委员会)
            entries.append(
                AddressEntry(
                    level,
                    name,
                    row[county],
                    row[township],
                    row[village],
                    aliases,
                    row[mca] or row[nbs],
                    row[source],
                )
            )
    return entries


def load_starter_roads() -> list[AddressEntry]:
    """The packaged starter roads, crossings and landmarks (to be replaced by real data)."""
    with _resource_text(STARTER_ROADS_FILE) as f:
        return _parse_address_csv(f, STARTER_ROADS_FILE)


def read_address_csv(
    path: str | os.PathLike[str], known_counties: Collection[str] | None = None
) -> list[AddressEntry]:
    """Read a centre's address list; a bad row raises ``ValueError`` naming its line."""
    with open(path, encoding="utf-8-sig", newline="") as f:  # Excel writes a BOM
        return _parse_address_csv(f, str(path), known_counties)


def _parse_address_csv(
    f: TextIO, origin: str, known_counties: Collection[str] | None = None
) -> list[AddressEntry]:
    reader = csv.DictReader(f)
    header = reader.fieldnames or []
    missing = [c for c in ADDRESS_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{origin} 第 1 行：缺少列 {', '.join(missing)} (missing columns)")
    entries: list[AddressEntry] = []
    for row in reader:
        line = reader.line_num
        try:
            entries.append(_entry_from_row(row, known_counties))
        except ValueError as exc:
            raise ValueError(f"{origin} 第 {line} 行：{exc}") from None
    return entries


def _entry_from_row(
    row: dict[str | None, str | list[str] | None], known_counties: Collection[str] | None
) -> AddressEntry:
    if row.get(None):
        raise ValueError("列数多于表头 (too many fields)")
    values: dict[str, str] = {}
    for column in (*ADDRESS_COLUMNS, "code"):
        value = row.get(column)
        if value is None and column in ADDRESS_COLUMNS:
            raise ValueError(f"缺少“{column}”列的值 (too few fields)")
        values[column] = value.strip() if isinstance(value, str) else ""
    level = AddressLevel.parse(values["level"])
    name, county = values["name"], values["county"]
    if not name:
        raise ValueError("名称为空 (empty name)")
    if not county:
        raise ValueError("县区为空 (empty county)")
    if known_counties is not None and county not in known_counties:
        raise ValueError(f"未知的县区“{county}” (unknown county)")
    if level is AddressLevel.VILLAGE and not values["township"]:
        raise ValueError("村社区必须填写乡镇街道 (a village needs its township)")
    if level is AddressLevel.CROSSING and crossing_roads(name) is None:
        raise ValueError(f"交叉口名称应为“甲路与乙路交叉口”：{name} (bad crossing name)")
    aliases = tuple(a.strip() for a in values["aliases"].split(ALIAS_SEPARATOR) if a.strip())
    return AddressEntry(
        level=level,
        name=name,
        county=county,
        township=values["township"],
        village=values["village"],
        aliases=aliases,
        code=values["code"],
        source=values["source"],
    )


def write_address_csv(entries: Iterable[AddressEntry], path: str | os.PathLike[str]) -> None:
    """Write entries in the format ``read_address_csv`` reads (a ``code`` column if needed)."""
    rows = list(entries)
    with_code = any(e.code for e in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*ADDRESS_COLUMNS, "code") if with_code else ADDRESS_COLUMNS)
    for e in rows:
        for alias in e.aliases:
            if ALIAS_SEPARATOR in alias:
                raise ValueError(f"别名不能包含“{ALIAS_SEPARATOR}”：{alias}")
        record = [
            e.level.value,
            e.county,
            e.township,
            e.village,
            e.name,
            ALIAS_SEPARATOR.join(e.aliases),
            e.source,
        ]
        writer.writerow([*record, e.code] if with_code else record)
    Path(path).write_text(buffer.getvalue(), encoding="utf-8")


# -- OpenStreetMap --------------------------------------------------------------------------------

#: place=* values that are a village or a neighbourhood; larger places (town, city, county) are
#: administrative units the gazetteer already has, so they are skipped.
_OSM_VILLAGE_PLACES = frozenset(
    {"village", "hamlet", "isolated_dwelling", "neighbourhood", "quarter", "suburb", "allotments"}
)
_OSM_SKIPPED_PLACES = frozenset(
    {"city", "town", "county", "state", "province", "region", "country", "municipality", "district"}
)
_OSM_POI_KEYS = ("amenity", "shop", "building", "office", "tourism", "leisure", "historic")
_COUNTY_SUFFIX = re.compile(r".+(?:县|区)$")


def _osm_county(tags: dict[str, str], default: str) -> str:
    if tags.get("addr:county"):
        return tags["addr:county"]
    for key in ("is_in:county", "is_in"):
        for part in reversed(re.split(r"[,;，；]", tags.get(key, ""))):
            if _COUNTY_SUFFIX.match(part.strip()):
                return part.strip()
    return default


def _osm_aliases(tags: dict[str, str], name: str) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("alt_name", "old_name", "short_name", "official_name", "name:zh"):
        found += [a.strip() for a in tags.get(key, "").split(";") if a.strip()]
    return tuple(dict.fromkeys(a for a in found if a != name))


def _osm_objects(path: str | os.PathLike[str]) -> Iterator[tuple[bool, dict[str, str]]]:
    """(is_way, tags) of every tagged node and way; pyosmium reads .osm, .osm.pbf, .osc."""
    import osmium  # imported here: only the importer needs the C extension

    for obj in osmium.FileProcessor(os.fspath(path), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node | osmium.osm.Way):
            tags = {t.k: t.v for t in obj.tags}
            if tags.get("name"):
                yield isinstance(obj, osmium.osm.Way), tags


def import_osm(
    path: str | os.PathLike[str],
    county: str,
    *,
    township: str = "",
    source: str = "osm",
) -> list[AddressEntry]:
    """Roads, villages and landmarks from an OSM extract (ODbL: credit OpenStreetMap).

    Named ways with ``highway=*`` become roads, one per (county, name) since OSM splits a road
    into many ways. Named ``place=village|hamlet|neighbourhood|…`` become villages; named
    objects with amenity/shop/building/office/tourism/leisure/historic become landmarks (poi).
    The county is ``addr:county`` or the county in ``is_in`` when tagged, else ``county``.
    """
    entries: dict[tuple[AddressLevel, str, str], AddressEntry] = {}
    try:
        objects = list(_osm_objects(path))
    except (RuntimeError, OSError) as exc:  # libosmium reports unreadable files as RuntimeError
        raise ValueError(f"无法读取 OSM 文件 {path}：{exc} (cannot read OSM file)") from exc
    for is_way, tags in objects:
        name = tags["name"].strip()
        place = tags.get("place", "")
        if is_way and tags.get("highway"):
            level = AddressLevel.ROAD
        elif place in _OSM_VILLAGE_PLACES:
            level = AddressLevel.VILLAGE
        elif place in _OSM_SKIPPED_PLACES:
            continue
        elif place or any(tags.get(k) for k in _OSM_POI_KEYS):
            level = AddressLevel.POI
        else:
            continue
        where = _osm_county(tags, county)
        key = (level, where, name)
        if key in entries:
            continue
        entries[key] = AddressEntry(
            level=level,
            name=name,
            county=where,
            township=tags.get("addr:township", "") or township,
            village=name if level is AddressLevel.VILLAGE else "",
            aliases=_osm_aliases(tags, name),
            source=source,
        )
    return list(entries.values())


# -- the index ------------------------------------------------------------------------------------


@cache
def _base_entries() -> tuple[AddressEntry, ...]:
    return (*load_gazetteer(), *load_starter_roads())


@cache
def default_address_index() -> AddressIndex:
    """Gazetteer + starter roads, built once per process (≈ 70 ms cold, pinyin from the table)."""
    return AddressIndex(_base_entries(), CENTRAL_CITY)


def build_address_index(extra: Iterable[AddressEntry] = ()) -> AddressIndex:
    """The gazetteer and starter roads plus ``extra`` (a centre's own book, an OSM import)."""
    added = tuple(extra)
    if not added:
        return default_address_index()
    return AddressIndex((*_base_entries(), *added), CENTRAL_CITY)
