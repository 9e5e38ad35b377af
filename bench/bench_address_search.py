"""Benchmark the address search at 100,000 entries.

    python bench/bench_address_search.py           # full: 100,000 synthetic + gazetteer, 5 rounds
    python bench/bench_address_search.py --quick   # 20,000 synthetic, fewer queries, 3 rounds

Builds ``AddressIndex`` over the real gazetteer, the starter roads and a deterministic synthetic
address book (seeded combinations of road/community/building name parts), then times queries of
four kinds with ``time.perf_counter_ns``: Chinese (1–4 characters, prefix or substring of real
names), pinyin initials (2–4 letters), typo'd Chinese names that fall through to the fuzzy
tier, and "county + name" queries (泌阳 王庄, biyang wangzhuang, by wz). Per kind it reports
median, p95, p99 and max in microseconds as the median over rounds with the min–max spread,
plus the build time and RSS growth, and times the naive baselines (substring scan and
``rapidfuzz.process.extract`` over every name) on a few queries in the same run.
Prints a markdown table and writes ``bench/results/address_search.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rapidfuzz import process

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from percentiles import percentile

from agent_tui.data.addresses import (
    CENTRAL_CITY,
    load_gazetteer,
    load_starter_roads,
)
from agent_tui.domain.address import (
    AddressEntry,
    AddressIndex,
    AddressLevel,
    crossing_name,
)
from agent_tui.domain.pinyin import pinyin_keys
from agent_tui.domain.search import MatchKind, text_pinyin

RESULTS = Path(__file__).resolve().parent / "results" / "address_search.json"
SEED = 12345
LIMIT = 50

# Name parts, space-separated for readability.
ROAD_STEMS = (  # noqa: SIM905
    "金山 骏达 乐山 文化 中华 解放 雪松 练江 驿城 开源 前进 交通 健康 人民 胜利 建设 光明 新华 "
    "团结 和平 富强 民主 工业 商业 育才 春华 天中 置地 铜山 薄山 板桥 顺河 香山 橡林 风光 朝阳 "
    "向阳 南海 白桥 淮河 汝河 洪河 嵖岈 竹沟 蚁蜂 诸市 老河 水屯 沙河 通达 振兴 兴业 创业 汇通 "
    "五一 文明 仓库 东风 西园 新村 车站 凤鸣 宿鸭 金桥 金河 职教 科技 学院 文昌 迎宾"
).split()
ROAD_SUFFIXES = ("路", "路", "路", "大道", "街", "东路", "西路", "南路", "北路", "中段")
ESTATE_STEMS = (  # noqa: SIM905
    "建业 碧桂园 天中 万达 御景 锦绣 阳光 幸福 金色 丽水 翰林 书香 学府 名门 盛世 华府 东方 世纪 "
    "滨河 龙湖 恒大 正商 昌建 置地 金桂 铂悦 星河 鑫苑 康桥 美景 天伦 泰和 嘉禾 紫薇 水岸 城市 "
    "兴华 银泰 和谐 凯旋 怡和 新天地 中央 颐和 林语 状元"
).split()
ESTATE_SUFFIXES = ("小区", "花园", "家园", "苑", "府", "名都", "新城", "公馆", "嘉园", "城")
SHOPS = (  # noqa: SIM905
    "超市 药房 饭店 宾馆 诊所 幼儿园 小学 加油站 菜市场 网吧 烩面馆 理发店 五金店 快递站 "
    "停车场 洗车行 烧烤店 便利店 家具城 驾校"
).split()
# Plausible typo characters: same-sound or look-alike characters an IME offers by mistake.
TYPO_CHARS = "璐鹿陆录露禄芦炉卢湖虎户护沪和河合何荷华化花画话新心欣信星兴行型形阳羊杨洋扬样"


def synthetic_book(n: int, counties: Sequence[str], villages: Sequence[str]) -> list[AddressEntry]:
    """``n`` deterministic, realistic-looking addresses (same seed, same book)."""
    rng = random.Random(SEED)
    roads = [s + x for s in ROAD_STEMS for x in ROAD_SUFFIXES]
    estates = [s + x for s in ESTATE_STEMS for x in ESTATE_SUFFIXES]
    out: list[AddressEntry] = []
    for road in roads:  # every road once as a road entry
        out.append(AddressEntry(AddressLevel.ROAD, road, rng.choice(counties), source="bench"))
    while len(out) < n:
        county = rng.choice(counties)
        road = rng.choice(roads)
        kind = rng.random()
        if kind < 0.25:
            name = f"{road}{rng.randint(1, 300)}号" + ("院" if rng.random() < 0.5 else "")
        elif kind < 0.45:
            name = f"{rng.choice(estates)}{rng.randint(1, 40)}号楼"
            if rng.random() < 0.4:
                name += f"{rng.randint(1, 6)}单元"
        elif kind < 0.55:
            other = rng.choice(roads)
            if other == road:
                continue
            out.append(
                AddressEntry(
                    AddressLevel.CROSSING, crossing_name(road, other), county, source="bench"
                )
            )
            continue
        elif kind < 0.70:
            name = f"{road}{rng.choice(estates)}"
        elif kind < 0.85:
            name = f"{road}{rng.randint(1, 300)}号{rng.choice(SHOPS)}"
        else:
            name = f"{rng.choice(villages)}{rng.randint(1, 12)}组"
        out.append(AddressEntry(AddressLevel.POI, name, county, source="bench"))
    return out[:n]


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_queries(
    names: Sequence[str], rng: random.Random, count: int, intended: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Queries per kind; ``intended`` (if given) maps each typo'd query to the name it spoils."""
    han_names = [n for n in names if all("\u4e00" <= c <= "\u9fff" for c in n)]
    chinese: list[str] = []
    while len(chinese) < count:
        name = rng.choice(names)
        size = rng.randint(1, 4)
        if len(name) < size:
            continue
        start = 0 if rng.random() < 0.5 else rng.randint(0, len(name) - size)  # prefix or inside
        chinese.append(name[start : start + size])
    initials: list[str] = []
    while len(initials) < count:
        ini = text_pinyin(rng.choice(names))[1]
        size = rng.randint(2, 4)
        if len(ini) >= size and ini[:size].isalpha():
            initials.append(ini[:size])
    fuzzy: list[str] = []
    while len(fuzzy) < count:
        name = rng.choice(han_names)
        if not 3 <= len(name) <= 8:
            continue
        pos = rng.randrange(len(name))
        typo = name[:pos] + rng.choice(TYPO_CHARS) + name[pos + 1 :]
        if typo != name:
            fuzzy.append(typo)
            if intended is not None:
                intended.setdefault(typo, name)
    return {"chinese": chinese, "initials": initials, "fuzzy": fuzzy}


def make_scoped_queries(
    entries: Sequence[AddressEntry], rng: random.Random, count: int
) -> list[str]:
    """ "County + name" queries as agents type them (泌阳 王庄, biyang wangzhuang, by wz): the
    county's first two characters or its pinyin/initials, a space, then the start of a name in
    it (2–3 characters, its pinyin, or 2–3 initials)."""
    named = [e for e in entries if e.level is not AddressLevel.COUNTY and e.county and e.name]
    out: list[str] = []
    while len(out) < count:
        e = rng.choice(named)
        c_full, c_ini = text_pinyin(e.county)
        n_full, n_ini = text_pinyin(e.name)
        style = rng.randrange(3)
        if style == 0:
            out.append(f"{e.county[:2]} {e.name[: rng.randint(2, 3)]}")
        elif style == 1:
            out.append(f"{c_full[: rng.randint(4, 6)]} {n_full[: rng.randint(4, 8)]}")
        elif n_ini[:2].isalpha():
            out.append(f"{c_ini[:2]} {n_ini[: rng.randint(2, 3)]}")
    return out


def time_queries(search: Callable[[str], Any], queries: Sequence[str]) -> list[float]:
    clock = time.perf_counter_ns
    out: list[float] = []
    for q in queries:
        t0 = clock()
        search(q)
        out.append((clock() - t0) / 1000)
    return out


def summarize(rounds: list[list[float]]) -> dict[str, dict[str, float]]:
    stats: dict[str, list[float]] = {"median": [], "p95": [], "p99": [], "max": []}
    for r in rounds:
        stats["median"].append(statistics.median(r))
        stats["p95"].append(percentile(r, 95))
        stats["p99"].append(percentile(r, 99))
        stats["max"].append(max(r))
    return {
        k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in stats.items()
    }


def machine() -> dict[str, str]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "pypinyin": version("pypinyin"),
        "rapidfuzz": version("rapidfuzz"),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k entries, 300 queries, 3 rounds")
    args = parser.parse_args(argv)
    size, count, rounds = (20_000, 300, 3) if args.quick else (100_000, 2_000, 5)

    gazetteer = load_gazetteer()
    base = [*gazetteer, *load_starter_roads()]
    counties = sorted({e.county for e in gazetteer})
    villages = [e.name for e in gazetteer if e.level is AddressLevel.VILLAGE]
    book = synthetic_book(size, counties, villages)
    entries = [*base, *book]

    # Both builds start with a cold pinyin cache, as at process start.
    pinyin_keys.cache_clear()
    t0 = time.perf_counter()
    AddressIndex(base, CENTRAL_CITY)
    base_build_s = time.perf_counter() - t0
    pinyin_keys.cache_clear()
    gc.collect()
    rss0 = rss_kib()
    t0 = time.perf_counter()
    index = AddressIndex(entries, CENTRAL_CITY)
    build_s = time.perf_counter() - t0
    gc.collect()
    rss_mib = (rss_kib() - rss0) / 1024

    rng = random.Random(SEED + 1)
    names = [e.name for e in entries]
    intended: dict[str, str] = {}
    queries = make_queries(names, rng, count, intended)
    scoped_queries = make_scoped_queries(entries, random.Random(SEED + 2), count)

    def search(q: str) -> Any:
        return index.search(q, LIMIT)

    # The 1 ms target is for queries the exact tiers answer; a query whose tiers give fewer
    # than LIMIT results (and has >= 2 characters) also runs the fuzzy fallback, so it is
    # timed in its own group.
    def falls_back(q: str) -> bool:
        return len(q) >= 2 and len(index.search(q, LIMIT, fuzzy=False)) < LIMIT

    groups: dict[str, list[str]] = {}
    for kind in ("chinese", "initials"):
        groups[kind] = [q for q in queries[kind] if not falls_back(q)]
        groups[f"{kind} → fuzzy fallback"] = [q for q in queries[kind] if falls_back(q)]
    groups["fuzzy (typo'd names)"] = queries["fuzzy"]
    groups["county + name (泌阳 王庄, by wz)"] = scoped_queries
    typo_fallback = sum(falls_back(q) for q in queries["fuzzy"]) / len(queries["fuzzy"])
    typo_found = sum(
        1 for q in queries["fuzzy"] if any(m.kind is MatchKind.FUZZY for m in search(q))
    ) / len(queries["fuzzy"])
    # Quality, not only speed: is the name the typo spoiled among the first 10 results?
    recall_at_10 = sum(
        1 for q in queries["fuzzy"] if intended[q] in [m.entry.name for m in index.search(q, 10)]
    ) / len(queries["fuzzy"])
    for q in queries["chinese"][:200]:  # warm-up: caches, allocator
        search(q)

    per_group: dict[str, list[list[float]]] = {k: [] for k in groups}
    for _ in range(rounds):
        for kind, qs in groups.items():
            per_group[kind].append(time_queries(search, qs))
    summary = {k: summarize(v) for k, v in per_group.items() if groups[k]}

    # Naive baselines on a handful of queries, in the same process and run.
    few_sub = groups["chinese"][:20]
    few_fuzzy = queries["fuzzy"][:5]

    def naive_substring(q: str) -> list[str]:
        return [n for n in names if q in n][:LIMIT]

    def naive_fuzzy(q: str) -> Any:
        return process.extract(q, names, limit=LIMIT)

    base_sub = statistics.median(time_queries(naive_substring, few_sub))
    ours_sub = statistics.median(time_queries(search, few_sub))
    base_fz = statistics.median(time_queries(naive_fuzzy, few_fuzzy))
    ours_fz = statistics.median(time_queries(search, few_fuzzy))

    result = {
        "entries": len(entries),
        "synthetic": size,
        "queries_per_kind": count,
        "rounds": rounds,
        "limit": LIMIT,
        "build_s": build_s,
        "build_rss_mib": rss_mib,
        "default_index_build_s": base_build_s,
        "default_index_entries": len(base),
        "queries_per_group": {k: len(v) for k, v in groups.items()},
        "typo_queries_running_fallback": typo_fallback,
        "typo_queries_with_fuzzy_hits": typo_found,
        "typo_recall_at_10": recall_at_10,
        "latency_us": summary,
        "baselines_us": {
            "substring_scan_median": base_sub,
            "index_same_queries_median": ours_sub,
            "substring_ratio": base_sub / ours_sub,
            "rapidfuzz_extract_median": base_fz,
            "index_fuzzy_same_queries_median": ours_fz,
            "fuzzy_ratio": base_fz / ours_fz,
        },
        "machine": machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")

    def cell(kind: str, stat: str) -> str:
        s = summary[kind][stat]
        return f"{s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f})"

    print(f"entries {len(entries):,} ({size:,} synthetic), {count} queries/kind, {rounds} rounds")
    print(
        f"build {build_s:.2f} s, RSS +{rss_mib:.0f} MiB; default index ({len(base):,}) "
        f"{base_build_s:.2f} s; typo'd queries running the fallback {typo_fallback:.0%}, "
        f"with fuzzy hits {typo_found:.0%}, intended name in the top 10 {recall_at_10:.1%}\n"
    )
    print("| kind | queries | median µs | p95 µs | p99 µs | max µs |")
    print("|---|---|---|---|---|---|")
    for kind in summary:
        print(
            f"| {kind} | {len(groups[kind])} | "
            + " | ".join(cell(kind, s) for s in ("median", "p95", "p99", "max"))
            + " |"
        )
    print("\n(median over rounds, min–max in brackets)\n")
    print(
        f"substring scan over {len(names):,} names: {base_sub:.0f} µs vs index {ours_sub:.0f} µs"
        f" ({base_sub / ours_sub:.0f}×)"
    )
    print(
        f"rapidfuzz.process.extract (WRatio) over {len(names):,}: {base_fz:.0f} µs vs index "
        f"{ours_fz:.0f} µs ({base_fz / ours_fz:.0f}×)"
    )
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
