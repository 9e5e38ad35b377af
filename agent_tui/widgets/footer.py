"""A Footer that rebuilds only when the keys it shows change.

Textual's Footer recomposes on every ``bindings_updated`` signal, which the screen publishes on
every focus change: each Tab between two fields of the entry form threw away ~20 ``FooterKey``
widgets and mounted ~20 new ones. Each new key also ``data_bind``s the Footer's ``compact``
reactive, and Textual prunes those watchers only when ``compact`` itself changes (never, here),
so every removed key stayed reachable from the Footer: thousands of dead widgets after a shift,
more work for every garbage collection, and full collections long enough to be felt between two
keystrokes (docs/benchmarks.md, "The seat while typing").
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen[Any]) -> tuple[Hashable, ...]:
    """What the Footer would draw for ``screen``: the keys, their labels, enabled or not."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )


class SteadyFooter(Footer):
    """Textual's Footer, recomposed only when the shown keys differ, without leaking watchers."""

    _shown: tuple[Hashable, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = shown_keys(screen)
            if shown == self._shown and self._bindings_ready:
                return  # a focus change that changes no key: nothing to draw
            self._shown = shown
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        self._prune_watchers()
        yield from super().compose()

    def _prune_watchers(self) -> None:
        """Forget the ``compact`` watchers of keys that are no longer mounted."""
        watchers: dict[str, list[tuple[Any, Any]]] = getattr(self, "__watchers", {})
        for name, entries in watchers.items():
            watchers[name] = [
                (node, cb) for node, cb in entries if node is self or node.is_attached
            ]

    @property
    def watcher_count(self) -> int:
        """How many reactive watchers hang on this Footer (for the tests)."""
        return sum(len(entries) for entries in getattr(self, "__watchers", {}).values())
