"""Run every benchmark under bench/ (``make bench``); each prints its own table.

Results go to bench/results/*.json (git-ignored); the figures worth keeping are copied, with the
machine and date, into docs/benchmarks.md by hand after reading them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    failed = 0
    for script in sorted(here.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script), *sys.argv[1:]]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
