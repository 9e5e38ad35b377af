"""Garbage collection between keystrokes, not during them.

CPython's collector runs when allocations cross its thresholds, i.e. in the middle of whatever
the seat is doing: a full (generation 2) collection walks every object the seat holds and took
60–300 ms while an agent typed (docs/benchmarks.md, "The seat while typing"). The search indexes
are frozen at start-up (``gc.freeze``), but every screen, case and message that lives on is
promoted to the oldest generation, so full collections came back as the shift went on.

The seat therefore takes the oldest generation's collections into its own hands:

* at start: freeze what start-up built, and set the oldest generation's threshold so high
  that CPython never starts a full collection by itself (young collections stay automatic:
  they only walk what is new, a millisecond or two);
* a *pause* collection once the agent has stopped typing for a second: collect what is not
  frozen (what was made since the last pause — small, a few milliseconds), then freeze the
  survivors;
* a *whole* collection when the seat has been quiet for twenty seconds and enough was frozen
  since the last one: unfreeze, collect everything (the slow one, now while nobody types), freeze;
* a *backlog* collection if an agent types for minutes without a one-second pause: the same as
  a pause collection, so the unfrozen heap stays small.

``tick`` is called by the app's timer; the clock is injectable for the tests.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

#: The oldest generation's threshold while the collector is in charge: never reached.
NEVER = 1_000_000_000


@dataclass
class Collection:
    kind: str  # "start" | "pause" | "whole" | "backlog"
    at: float
    ms: float
    frozen: int


@dataclass
class IdleCollector:
    pause_after: float = 1.0  # seconds without input before a pause collection
    whole_after: float = 20.0  # seconds of quiet before a whole collection ...
    whole_growth: int = 60_000  # ... if the frozen heap grew this much since the last one
    backlog: int = 400  # young collections since the last pause that force one
    clock: Callable[[], float] = time.monotonic
    history: list[Collection] = field(default_factory=list)
    _running: bool = False
    #: Collectors running in this process (tests run several seats at once) and the thresholds
    #: to give back when the last one stops.
    _active: ClassVar[int] = 0
    _saved: ClassVar[tuple[int, int, int]] = (700, 10, 10)
    _last_input: float = 0.0
    _input_since_pause: bool = False
    _frozen_at_whole: int = 0
    _young_at_pause: int = 0

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        if IdleCollector._active == 0:
            IdleCollector._saved = gc.get_threshold()
            gen0, gen1, _ = IdleCollector._saved
            gc.set_threshold(gen0, gen1, NEVER)
        IdleCollector._active += 1
        self._last_input = self.clock()
        # Freeze what start-up built, without collecting first: a collection over the indexes
        # costs ~0.5 s before the first screen. A whole collection (which walks the indexes
        # again) waits until the seat froze a good deal more than that, in a quiet spell.
        started = time.perf_counter()
        gc.freeze()
        self.history.append(
            Collection("start", self.clock(), (time.perf_counter() - started) * 1000, 0)
        )
        self._frozen_at_whole = gc.get_freeze_count()
        self._young_at_pause = gc.get_stats()[1]["collections"]

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        IdleCollector._active -= 1
        if IdleCollector._active == 0:
            gc.set_threshold(*IdleCollector._saved)
            gc.unfreeze()

    def touch(self) -> None:
        """A key or a click: the agent is working."""
        self._last_input = self.clock()
        self._input_since_pause = True

    def tick(self) -> Collection | None:
        if not self.running:
            return None
        idle = self.clock() - self._last_input
        if idle >= self.whole_after and gc.get_freeze_count() - self._frozen_at_whole >= (
            self.whole_growth
        ):
            done = self._collect("whole", whole=True)
            self._frozen_at_whole = gc.get_freeze_count()
            return done
        if idle >= self.pause_after and self._input_since_pause:
            return self._collect("pause", whole=False)
        if self._young_collections() >= self.backlog:
            return self._collect("backlog", whole=False)
        return None

    def _young_collections(self) -> int:
        """Generation-1 collections since the last pause: a measure of what was promoted."""
        return gc.get_stats()[1]["collections"] - self._young_at_pause

    def _collect(self, kind: str, *, whole: bool) -> Collection:
        started = time.perf_counter()
        if whole:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        done = Collection(
            kind, self.clock(), (time.perf_counter() - started) * 1000, gc.get_freeze_count()
        )
        self.history.append(done)
        del self.history[:-200]
        self._input_since_pause = False
        self._young_at_pause = gc.get_stats()[1]["collections"]
        return done
