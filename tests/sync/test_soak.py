"""A bounded soak on PostgreSQL (about two minutes): seat-like writers with quiet gaps of 0–5 s
through the HTTP API of ``agent-tui serve --workers 2`` running as the runtime role, one
PostgreSQL restart and one SIGKILL of the server in the middle (``tests/sync/soak.py``).

Quiet gaps matter: the store once answered every write after a pause of more than a second
with a 500 on PostgreSQL, while bursts showed no error at all. ``bench/soak.py`` runs longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import PgCluster, find_pg_bin

from .soak import SoakConfig, run_soak


@pytest.fixture
def own_cluster() -> Iterator[PgCluster]:
    """A cluster of the soak's own: it is stopped and started in the middle."""
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found")
    with PgCluster() as cluster:
        yield cluster


@pytest.mark.slow
def test_soak_quiet_gaps_a_database_restart_and_a_server_kill(
    own_cluster: PgCluster, tmp_path: Path
) -> None:
    report = run_soak(own_cluster, tmp_path, SoakConfig(seconds=90, writers=5))
    summary = report.summary()
    print(summary)  # shown with -s, and in the failure report
    statuses = report.statuses()
    assert statuses[500] == 0, summary
    assert set(statuses) <= {200, 201, 503, 0}, summary  # nothing refused, nothing else
    assert not report.misplaced_errors(), (summary, report.misplaced_errors()[:5])
    assert not report.problems, summary
    assert len(report.outages) == 2
    kinds = set(report.acknowledged.values())
    assert kinds == {"create", "dispatch", "sign"}, summary
    # Writes went through after quiet gaps both before and after the outages.
    acked = [a for a in report.attempts if a.status in (200, 201)]
    first, last = report.outages[0][1], report.outages[-1][2]
    assert any(a.end < first for a in acked) and any(a.start > last for a in acked), summary
