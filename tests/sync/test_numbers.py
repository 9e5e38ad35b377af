"""Case numbers at save, offline (issue 15, item 1): two seats each save 50 cases while the
central store is down, one of them restarted half-way; after the sync the numbers shown at
save are the numbers stored, all distinct; a seat whose numbers ran out falls back to the
store's numbering, which never meets a seat's."""

from __future__ import annotations

from pathlib import Path

from agent_tui.client.api import ApiClient
from agent_tui.client.store import SeatStore
from agent_tui.domain.numbers import parse_number

from .conftest import ServerProcess, make_seat
from .test_sync import case_body, drain

POOL = 50


def save(store: SeatStore, n: int) -> dict[str, str]:
    """Save ``n`` cases; the number each showed at save, by uuid ('' when it had none)."""
    shown = {}
    for i in range(n):
        case_uuid = store.save_new_case(case_body(i), "agent")
        cached = store.case(case_uuid)
        assert cached is not None and cached.pending
        shown[case_uuid] = cached.case.number
    return shown


async def stored_numbers(api: ApiClient, uuids: list[str]) -> dict[str, str]:
    return {u: (await api.get_case(u)).number for u in uuids}


async def test_fifty_cases_saved_offline_at_two_seats_keep_the_numbers_shown_at_save(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    api_b, store_b, engine_b = make_seat(server.url, "agent02", tmp_path, "seat-b")
    for api, engine in ((api_a, engine_a), (api_b, engine_b)):
        engine.number_pool = POOL
        await api.login()
        assert await engine.refill_numbers() == POOL
        assert await engine.refill_numbers() == 0  # enough in hand: nothing more reserved
    server.stop()

    # Offline: seat A saves 25, is closed (a restart), opened again and saves 25 more.
    shown = save(store_a, 25)
    store_a.close()
    await api_a.aclose()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    shown |= save(store_a, 25)
    shown |= save(store_b, 50)
    assert len(shown) == 100 and all(shown.values())
    assert len(set(shown.values())) == 100, "a number shown twice"
    # The pools are empty now: one more case at seat B has no number until it syncs.
    (late,) = save(store_b, 1)
    assert store_b.case(late).case.number == ""  # type: ignore[union-attr]

    server.start()
    await drain(engine_a)
    await drain(engine_b)
    stored = await stored_numbers(api_a, [u for u in shown if store_a.case(u) is not None])
    stored |= await stored_numbers(api_b, [u for u in shown if store_b.case(u) is not None])
    assert stored == shown  # the number told to the caller is the case's number
    # The store numbered the late case past both seats' blocks.
    late_number = (await api_b.get_case(late)).number
    assert late_number and late_number not in shown.values()
    late_running = parse_number(late_number).running  # type: ignore[union-attr]
    assert all(late_running > parse_number(n).running for n in shown.values())  # type: ignore[union-attr]
    # The seats' caches hold the stored numbers, confirmed.
    for store in (store_a, store_b):
        for c in store.cases(limit=500):
            assert c.confirmed and c.case.number == (shown.get(c.uuid) or late_number)
    await api_a.aclose()
    await api_b.aclose()
