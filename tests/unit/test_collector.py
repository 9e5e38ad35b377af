"""The seat's garbage collection waits for a pause in the typing (``widgets.collector``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from agent_tui.widgets.collector import NEVER, IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def collector(clock: Clock) -> Iterator[IdleCollector]:
    c = IdleCollector(clock=clock)
    before = gc.get_threshold()
    c.start()
    yield c
    c.stop()
    assert gc.get_threshold() == before


def test_start_freezes_and_hands_full_collections_to_the_seat(collector: IdleCollector) -> None:
    assert gc.get_threshold()[2] == NEVER
    assert gc.get_freeze_count() > 0
    assert [c.kind for c in collector.history] == ["start"]


def test_no_collection_while_the_agent_types(collector: IdleCollector, clock: Clock) -> None:
    for _ in range(20):
        clock.now += 0.3  # a key every 300 ms: never a one-second pause
        collector.touch()
        assert collector.tick() is None


def test_a_pause_after_typing_collects_once(collector: IdleCollector, clock: Clock) -> None:
    collector.touch()
    clock.now += 0.5
    assert collector.tick() is None
    clock.now += 0.6
    done = collector.tick()
    assert done is not None and done.kind == "pause"
    clock.now += 5
    assert collector.tick() is None  # nothing typed since: nothing to do


def test_the_collected_garbage_is_really_gone(collector: IdleCollector, clock: Clock) -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]  # a cycle only a collection frees
    probe = [0]
    gc.callbacks.append(lambda phase, info: probe.__setitem__(0, info.get("collected", 0)))
    try:
        del a, b
        collector.touch()
        clock.now += 1.5
        collector.tick()
        assert probe[0] >= 2
    finally:
        gc.callbacks.pop()


def test_a_long_quiet_spell_unfreezes_and_collects_everything(
    clock: Clock,
) -> None:
    c = IdleCollector(clock=clock, whole_growth=0)
    c.start()
    try:
        clock.now += 25
        done = c.tick()
        assert done is not None and done.kind == "whole"
        assert gc.get_freeze_count() > 0  # frozen again after
    finally:
        c.stop()


def test_typing_without_pause_for_long_still_collects_the_backlog(clock: Clock) -> None:
    c = IdleCollector(clock=clock, backlog=2)
    c.start()
    try:
        junk = []
        for _ in range(30):
            clock.now += 0.2
            c.touch()
            junk.append([[i] for i in range(10_000)])  # young collections happen
            if (done := c.tick()) is not None:
                assert done.kind == "backlog"
                break
        else:
            pytest.fail("no backlog collection while typing for minutes")
    finally:
        c.stop()


def test_two_seats_in_one_process_give_the_thresholds_back_once_both_stop(clock: Clock) -> None:
    before = gc.get_threshold()
    a, b = IdleCollector(clock=clock), IdleCollector(clock=clock)
    a.start()
    b.start()
    a.stop()
    assert gc.get_threshold()[2] == NEVER  # b still runs
    b.stop()
    assert gc.get_threshold() == before
