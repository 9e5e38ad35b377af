"""The audit log's change maps survive the trip to JSON and back (every field, every step)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agent_tui.demo import generate_demo, replay
from agent_tui.server.codec import _decode, encode_changes


def test_every_change_of_a_month_of_demo_cases_round_trips() -> None:
    now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    events = [e for case in generate_demo(now, count=300) for e in replay(case)[1]]
    assert len({e.step for e in events}) >= 10
    for event in events:
        raw = json.loads(encode_changes(event.changes))
        decoded = {k: (_decode(k, a), _decode(k, b)) for k, (a, b) in raw.items()}
        assert decoded == dict(event.changes), event.step
