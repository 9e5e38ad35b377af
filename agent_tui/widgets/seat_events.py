"""What the seat tells the terminal, as Textual messages.

The seat (``client``, no Textual) tells the app what changed; the app posts one of these to
itself, makes its toasts, and publishes it on ``seat_events`` (a Textual ``Signal``). A screen
or widget that cares calls ``follow_seat(self)`` once mounted and gets each message in its own
queue, handled by ``on_seat_cases_changed`` / ``on_seat_status_changed`` /
``on_seat_commands_held``. A flood (a feed page per second while a screen is busy) is merged in
the queue: ``can_replace`` folds an older message into the newer one, so a busy screen handles
one message with every case that changed, never a backlog. They never bubble: each follower
gets its own copy, and one must never reach the app again (it would be published anew).
"""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump
from textual.signal import Signal

from agent_tui.client.model import (
    CasesChanged,
    CommandsHeld,
    SeatEvent,
    SyncStatusChanged,
)


def merge_cases(older: CasesChanged, newer: CasesChanged) -> CasesChanged:
    """Both changes as one (the newer state of a case wins)."""
    newer_uuids = {c.uuid for c in newer.cases}
    return CasesChanged(
        older.uuids | newer.uuids,
        tuple(c for c in older.cases if c.uuid not in newer_uuids) + newer.cases,
        (older.withdrawn - newer.uuids) | newer.withdrawn,
        older.initial and newer.initial,
        older.own | newer.own,  # this seat had a hand in it: no news toast
    )


class SeatCasesChanged(Message, bubble=False):
    """Cases in the seat's cache changed: re-read what you show from the seat."""

    def __init__(self, event: CasesChanged) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Called on this (older) message with a newer one waiting behind it.
        if isinstance(message, SeatCasesChanged):
            message.event = merge_cases(self.event, message.event)
            return True
        return False


class SeatStatusChanged(Message, bubble=False):
    """Online/offline, outbox, held commands: only the newest matters."""

    def __init__(self, event: SyncStatusChanged) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SeatStatusChanged)


class SeatCommandsHeld(Message, bubble=False):
    """The central store refused commands (kept for the agent to resolve)."""

    def __init__(self, event: CommandsHeld) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, SeatCommandsHeld):
            message.event = CommandsHeld(self.event.held + message.event.held)
            return True
        return False


SeatMessage = SeatCasesChanged | SeatStatusChanged | SeatCommandsHeld


def as_message(event: SeatEvent) -> SeatMessage:
    if isinstance(event, CasesChanged):
        return SeatCasesChanged(event)
    if isinstance(event, SyncStatusChanged):
        return SeatStatusChanged(event)
    return SeatCommandsHeld(event)


def seat_signal(owner: MessagePump) -> Signal[SeatEvent]:
    """The app's broadcast of seat events (one per app)."""
    return Signal(owner, "seat-events")  # type: ignore[arg-type]


def follow_seat(node: MessagePump) -> None:
    """Have ``node`` receive the seat's messages (until it is removed)."""
    signal: Signal[SeatEvent] | None = getattr(node.app, "seat_events", None)
    if signal is None:
        return  # no seat (the lookup alone)
    signal.subscribe(
        node,  # type: ignore[arg-type]
        lambda event: node.post_message(as_message(event)),
        immediate=True,
    )
