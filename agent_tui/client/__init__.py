"""The seat side, without Textual: API client, seat store, sync engine."""
