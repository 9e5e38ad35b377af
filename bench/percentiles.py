"""What the benchmarks share: one percentile, so that every p50/p99 in docs/benchmarks.md means
the same thing."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``values``: the sample nearest to that position in
    sorted order (no interpolation: every figure is a time that was measured)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
