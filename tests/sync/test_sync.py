"""Nothing is lost: outages, a server killed mid-push, a seat killed mid-draft, two seats on one
case, and a case travelling from seat A to seat B through the change feed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent_tui import wire
from agent_tui.client.api import ApiClient, Offline
from agent_tui.client.store import SeatStore
from agent_tui.domain.lifecycle import Step

from .conftest import ServerProcess, make_seat


def case_body(i: int) -> wire.CaseCreate:
    return wire.CaseCreate.model_validate(
        {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "content": f"第{i}号测试：金山路与骏达路交叉口北侧商铺张贴小广告",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": {"county": "驿城区", "road": "金山路"},
        }
    )


def step(step: Step, version: int, **params: object) -> wire.StepBody:
    model = wire.STEP_BODIES[step]
    return model.model_validate({**params, "command_id": str(uuid.uuid4()), "version": version})


async def server_case_uuids(api: ApiClient) -> list[str]:
    uuids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await api.list_cases(**params)
        uuids += [c.uuid for c in page.items]
        if not page.next_cursor:
            return uuids
        cursor = page.next_cursor


async def drain(engine, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while engine.store.pending():
        assert asyncio.get_running_loop().time() < deadline, "outbox did not drain"
        try:
            await engine.push()
        except Offline:
            await asyncio.sleep(0.1)


async def test_500_cases_saved_while_the_server_is_down_arrive_exactly_once(
    server: ServerProcess, tmp_path: Path
) -> None:
    api, store, engine = make_seat(server.url, "agent01", tmp_path, "seat-a")
    saved = [store.save_new_case(case_body(i), "agent01") for i in range(500)]
    assert store.outbox_length() == 500
    with pytest.raises(Offline):
        await engine.sync_once()
    assert store.outbox_length() == 500  # nothing lost while offline

    server.start()
    await drain(engine)
    await engine.push()  # a second round sends nothing twice
    on_server = await server_case_uuids(api)
    assert sorted(on_server) == sorted(saved)
    assert len(set(on_server)) == 500
    assert store.outbox_length() == 0
    cached = store.cases(limit=1000)
    assert len(cached) == 500 and not any(c.pending for c in cached)
    assert all(c.confirmed and c.case.number.startswith("ZMD-") for c in cached)
    await api.aclose()


async def test_server_killed_mid_push_loses_nothing_and_doubles_nothing(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    api, store, engine = make_seat(server.url, "agent01", tmp_path, "seat-a")
    saved = [store.save_new_case(case_body(i), "agent01") for i in range(300)]
    push = asyncio.create_task(engine.push())
    while store.outbox_length() > 220:  # let some land, then pull the plug mid-stream
        await asyncio.sleep(0.01)
    server.kill()
    with pytest.raises(Offline):
        await push
    left = store.outbox_length()
    assert 0 < left < 300

    server.start()
    await drain(engine)
    on_server = await server_case_uuids(api)
    assert len(on_server) == 300 and sorted(on_server) == sorted(saved)
    await api.aclose()


DRAFT_WRITER = """
import sys, time
from pathlib import Path
from agent_tui.client.store import SeatStore
store = SeatStore(Path(sys.argv[1]))
text = ""
for ch in "乐山大道与文化路交叉口东南角下水道堵塞":
    text += ch
    store.save_draft("form", {"caller_phone": "13912345678", "content": text})
print("typed", flush=True)
time.sleep(60)
"""


def test_a_seat_killed_mid_draft_restores_the_draft(tmp_path: Path) -> None:
    path = tmp_path / "seat.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRAFT_WRITER, str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"typed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    store = SeatStore(path)
    ((draft_id, body, _at),) = store.drafts()
    assert draft_id == "form"
    assert body["content"] == "乐山大道与文化路交叉口东南角下水道堵塞"
    store.close()


async def test_two_seats_change_one_case_one_wins_the_other_holds_both_versions(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    api_b, store_b, engine_b = make_seat(server.url, "lead01", tmp_path, "seat-b")
    case_uuid = store_a.save_new_case(case_body(1), "agent01")
    await engine_a.sync_once()
    await engine_b.sync_once()
    cached_b = store_b.case(case_uuid)
    assert cached_b is not None and cached_b.version == 1

    # Both decide on version 1: A dispatches, B (a lead) puts it under supervision.
    store_a.queue_step(case_uuid, Step.DISPATCH, step(Step.DISPATCH, 1, department="CGJ"))
    store_b.queue_step(case_uuid, Step.SUPERVISE, step(Step.SUPERVISE, 1, reason="领导交办"))
    await engine_a.push()
    await engine_b.push()

    (held,) = store_b.held()
    assert held.state == "conflict" and held.step is Step.SUPERVISE
    assert held.version == 1  # what B decided on
    assert isinstance(held.request, wire.ReasonBody) and held.request.reason == "领导交办"
    assert held.server_case is not None and held.server_case.version == 2  # what is there now
    assert held.server_case.status == "dispatched"
    assert store_a.held() == [] and store_a.outbox_length() == 0

    # B looks at the new version and re-applies: it goes through.
    store_b.reapply(held.id, held.server_case.version)
    await engine_b.push()
    assert store_b.held() == [] and store_b.outbox_length() == 0
    final = await api_a.get_case(case_uuid)
    assert final.version == 3 and final.supervision == 2 and final.department == "CGJ"
    await api_a.aclose()
    await api_b.aclose()


async def test_a_case_saved_at_seat_a_reaches_seat_b_through_the_feed(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    api_b, store_b, engine_b = make_seat(server.url, "agent02", tmp_path, "seat-b")
    await engine_b.sync_once()
    listening = asyncio.create_task(engine_b.pull(wait=10))
    await asyncio.sleep(0.2)  # B is now waiting in a long-poll
    case_uuid = store_a.save_new_case(case_body(7), "agent01")
    await engine_a.push()
    changed = await asyncio.wait_for(listening, 5)
    assert case_uuid in {c.uuid for c in changed}
    cached = store_b.case(case_uuid)
    assert cached is not None and cached.case.number.startswith("ZMD-")
    await api_a.aclose()
    await api_b.aclose()


async def test_reference_data_is_cached_and_refreshed_by_version(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    admin = ApiClient(server.url, "admin", "demo1234")
    for name, body in (("knowledge", [{"id": "K1", "title": "停水咨询"}]), ("categories", [])):
        r = await admin.request("PUT", f"/api/reference/{name}", json=body)
        assert r.status_code == 200
    api, store, engine = make_seat(server.url, "agent01", tmp_path, "seat-a")
    assert await engine.refresh_reference() == 2
    assert store.reference("knowledge")[0] == [{"id": "K1", "title": "停水咨询"}]  # type: ignore[index]
    assert await engine.refresh_reference() == 0  # nothing moved: nothing fetched

    r = await admin.request(
        "PUT", "/api/reference/knowledge", json=[{"id": "K1", "title": "停水、停电咨询"}]
    )
    assert r.json()["version"] == 2
    await engine.pull()  # the feed says knowledge moved; the engine fetches it
    body, _etag, version = store.reference("knowledge")  # type: ignore[misc]
    assert version == 2 and body[0]["title"] == "停水、停电咨询"
    assert store.reference("categories")[2] == 1  # type: ignore[index]
    await admin.aclose()
    await api.aclose()


async def test_a_new_seat_starts_from_now_with_its_queues_not_the_whole_history(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    for i in range(30):
        store_a.save_new_case(case_body(i), "agent01")
    await engine_a.push()
    api_b, store_b, engine_b = make_seat(server.url, "agent02", tmp_path, "seat-b")
    await engine_b.bootstrap()
    assert store_b.last_seq == 30  # starts at the head of the feed
    assert store_b.count_cases() == 30  # the open queue (registered) came in by pages
    await engine_b.pull()
    assert store_b.count_cases() == 30
    await api_a.aclose()
    await api_b.aclose()


async def test_the_feed_streams_to_a_running_seat_and_survives_a_server_restart(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A running seat reads the feed as one long response: a case saved at A arrives at B
    without B asking again; the server killed and started again, B connects again by itself
    and the next case arrives too, each change once."""
    server.start()
    api_a, store_a, engine_a = make_seat(server.url, "agent01", tmp_path, "seat-a")
    api_b, store_b, engine_b = make_seat(server.url, "agent02", tmp_path, "seat-b")
    assert engine_b.stream
    engine_b.backoff.cap = 0.5
    seen: list[str] = []
    engine_b.listeners.append(
        lambda event: seen.extend(c.uuid for c in getattr(event, "cases", ()))
    )
    running = asyncio.create_task(engine_b.run())

    async def arrives(case_uuid: str, timeout: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while case_uuid not in seen:
            assert asyncio.get_running_loop().time() < deadline, "did not arrive"
            await asyncio.sleep(0.05)

    await asyncio.sleep(1.0)  # B has bootstrapped and is reading its stream
    first = store_a.save_new_case(case_body(1), "agent01")
    await engine_a.push()
    await arrives(first)
    assert engine_b._reader is not None and not engine_b._reader.done()  # still the stream

    server.kill()
    await asyncio.sleep(0.5)
    assert not engine_b.status.online
    server.start()
    second = store_a.save_new_case(case_body(2), "agent01")
    await drain(engine_a)
    await arrives(second)
    assert engine_b.status.online
    assert seen.count(first) == 1 and seen.count(second) == 1
    assert store_b.case(second) is not None

    engine_b.stop()
    await asyncio.wait_for(running, 5)
    await api_a.aclose()
    await api_b.aclose()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # field 4 of stat: the parent's pid
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_the_kpi_replay_process_dies_with_a_killed_server(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The KPI tiles replay in a process the server spawns; a server killed outright must not
    leave it behind (it holds a database connection and hundreds of MB)."""
    server.start()
    lead = ApiClient(server.url, "lead01", "demo1234")
    await lead.dashboard()  # starts the replay process
    assert server.proc is not None
    deadline = asyncio.get_running_loop().time() + 30
    while not (workers := _children(server.proc.pid)):
        assert asyncio.get_running_loop().time() < deadline, "no replay process"
        await asyncio.sleep(0.2)
    server.kill()
    await lead.aclose()
    deadline = asyncio.get_running_loop().time() + 10
    while left := [pid for pid in workers if _alive(pid)]:
        alive = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in left}
        assert asyncio.get_running_loop().time() < deadline, f"outlived the server: {alive}"
        await asyncio.sleep(0.2)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its (new) parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
