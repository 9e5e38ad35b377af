"""The server's request and response models: the HTTP contract lives in ``agent_tui.wire``."""

from agent_tui.wire import *  # noqa: F403
from agent_tui.wire import STEP_BODIES, StepBody  # noqa: F401  (explicit for type checkers)
