"""Demo data: a realistic, deterministic set of users and cases with every lifecycle step.

Pure generation over ``domain`` and ``data`` (no database, no server, no wall clock): the
store's ``seed --demo`` writes it, the tests and the benchmarks replay it. The generator is
``agent_tui.demo.generate``; its public names are here.
"""

from agent_tui.demo.generate import (
    DEMO_PASSWORD,
    DemoCase,
    DemoUser,
    demo_users,
    generate_demo,
    replay,
)

__all__ = ["DEMO_PASSWORD", "DemoCase", "DemoUser", "demo_users", "generate_demo", "replay"]
