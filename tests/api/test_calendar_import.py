"""The 2027 calendar: an admin loads a year's holiday schedule (``agent-tui calendar import``,
or ``PUT /api/reference/calendar``); the store serves it with the other reference data and
its deadlines in that year stop being provisional. tests/data/calendar_test_2027.* are
invented test dates, not the State Council's schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_tui.cli import cli
from agent_tui.config import Settings
from agent_tui.data.calendar import calendar_body, read_schedule_file
from agent_tui.domain.lifecycle import Step
from agent_tui.server.db import make_engine
from agent_tui.server.seed import seed_reference
from agent_tui.server.store import Store

from .conftest import Api, FrozenClock
from .helpers import good_body, new_case, url

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def clock() -> FrozenClock:
    # Friday 2027-02-05, 10:00 in Zhumadian: chinese-calendar knows nothing of 2027.
    return FrozenClock(datetime(2027, 2, 5, 2, 0, tzinfo=UTC))


def dispatched(http: Api) -> dict[str, object]:
    case = new_case(http)
    r = http.post(url(case, Step.DISPATCH), json=good_body(Step.DISPATCH, case))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_toml_and_the_csv_test_files_say_the_same() -> None:
    toml = read_schedule_file(DATA / "calendar_test_2027.toml")
    csv = read_schedule_file(DATA / "calendar_test_2027.csv")
    assert toml == csv and [s.year for s in toml] == [2027]


def test_a_loaded_year_makes_its_deadlines_final(http: Api) -> None:
    """Before: a 2027 deadline is counted on weekdays alone and marked provisional. After the
    admin loads 2027 (the test file: 8–10 February off): the next case's deadline is final and
    skips those holidays; the seats can read the set."""
    before = dispatched(http)
    assert before["deadline_provisional"] is True
    body = calendar_body(read_schedule_file(DATA / "calendar_test_2027.toml"))
    r = http.client.put("/api/reference/calendar", json=body, headers=http.headers("admin"))
    assert r.status_code == 200, r.text
    after = dispatched(http)
    assert after["deadline_provisional"] is False
    due = datetime.fromisoformat(str(after["handling_deadline"]))
    assert due > datetime.fromisoformat(str(before["handling_deadline"]))  # three days later
    served = http.get("/api/reference/calendar").json()
    assert served[0]["year"] == 2027 and "2027-02-09" in served[0]["holidays"]


def test_a_bad_calendar_is_refused_with_the_reason(http: Api) -> None:
    bad = [{"year": 2027, "holidays": [], "workdays": ["2027-02-22"]}]  # a Monday
    r = http.client.put("/api/reference/calendar", json=bad, headers=http.headers("admin"))
    assert r.status_code == 422
    assert "2027-02-22" in r.text and "weekend" in r.text
    assert dispatched(http)["deadline_provisional"] is True  # nothing changed
    r = http.client.put("/api/reference/calendar", json=[], headers=http.headers("agent01"))
    assert r.status_code == 403


def test_calendar_import_on_the_command_line_reaches_the_store(settings: Settings) -> None:
    """``agent-tui calendar import FILE --db URL``: the store (a running one at its next clock
    tick, a new one at its start) counts on it; a seed afterwards (every demo start) keeps it;
    a bad file is refused with the reason and exit code 2."""
    url_ = settings.database_url()
    runner = CliRunner()
    result = runner.invoke(
        cli, ["calendar", "import", str(DATA / "calendar_test_2027.csv"), "--db", url_]
    )
    assert result.exit_code == 0, result.output
    assert "2027 年：放假 4 天，调休上班 1 天" in result.output
    store = Store(make_engine(url_), settings)
    assert store.calendar.covers(2027)
    seed_reference(store)
    body = json.loads(store.references.reference_set("calendar").body)
    assert [y["year"] for y in body] == [2027]
    broken = Path(settings.data_dir) / "bad.csv"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("2027-02-22,班\n", encoding="utf-8")
    result = runner.invoke(cli, ["calendar", "import", str(broken), "--db", url_])
    assert result.exit_code == 2 and "2027-02-22" in result.output
    store.engine.dispose()


def test_a_running_store_takes_an_import_at_its_clock_tick(http: Api, settings: Settings) -> None:
    """Written by another process (the CLI) into the same database: the running store's
    next clock run reads it."""
    other = Store(make_engine(settings.database_url()), settings)
    other.put_reference_set(
        "calendar", calendar_body(read_schedule_file(DATA / "calendar_test_2027.toml"))
    )
    other.engine.dispose()
    assert dispatched(http)["deadline_provisional"] is True
    store: Store = http.client.app.state.store  # type: ignore[attr-defined]
    store.run_clock()
    assert dispatched(http)["deadline_provisional"] is False
