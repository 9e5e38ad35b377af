"""Rules for new passwords: long enough, not common, not a pattern, not the user's own id.

The common list (``agent_tui/data/common_passwords.txt``, 43,795 entries of 8 characters or
more, lower case) is the NetEase 2015 breach's 100,000 most used passwords (MIT; provenance in
``agent_tui/data/PROVENANCE.md``): what Chinese users pick, ``woaini1314`` and
``1qaz2wsx`` included. The rules catch what a list cannot: one or two characters over and over,
a repeated chunk, runs of the alphabet, digits or keyboard, digits alone, the user id inside.
"""

from __future__ import annotations

import functools
import itertools
import re
from importlib.resources import files

from agent_tui.domain.errors import FieldError

#: Longest password accepted (the login request takes as many).
MAX_LENGTH = 200
#: Runs that people type as "a password": digits, the alphabet, keyboard rows and columns.
_RUNS = (
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
)
#: Digits and signs people add to a common word to make it "strong" (password123, woaini!).
_TAIL = re.compile(r"[\d\W_]{1,4}$")
_LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
#: Digit-only passwords shorter than this are refused (birthdays, phone numbers, PINs).
MIN_DIGITS_ONLY = 12


@functools.cache
def common_passwords() -> frozenset[str]:
    text = files("agent_tui.data").joinpath("common_passwords.txt").read_text(encoding="ascii")
    return frozenset(line for line in text.splitlines() if line)


def _is_run(text: str) -> bool:
    """Part of a known run (either way round), or every step between characters the same ±1
    (abcdef, 13579 is not: its step is 2, and is caught as digits alone)."""
    if any(text in run or text in run[::-1] for run in _RUNS):
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def _is_periodic(text: str) -> bool:
    """A chunk of at most half its length, repeated (abcabcabc, 12121212, woainiwoaini)."""
    n = len(text)
    return any(text == (text[:p] * (n // p + 1))[:n] for p in range(1, n // 2 + 1))


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    candidates = {lowered, lowered.translate(_LEET)}
    candidates |= {_TAIL.sub("", c) for c in candidates}
    return any(c in common for c in candidates)


def password_problems(
    password: str, *, user_id: str = "", name: str = "", min_length: int = 10
) -> list[FieldError]:
    """What is wrong with ``password`` as a new password (empty: nothing)."""

    def problem(code: str, zh: str, en: str) -> list[FieldError]:
        return [FieldError("password", code, zh, en)]

    if len(password) < min_length:
        return problem("too_short", f"密码至少 {min_length} 位", f"At least {min_length} chars")
    if len(password) > MAX_LENGTH:
        return problem("too_long", f"密码最多 {MAX_LENGTH} 位", f"At most {MAX_LENGTH} chars")
    lowered = password.lower()
    if len(set(lowered)) < 4 or _is_periodic(lowered):
        return problem(
            "repetitive",
            "密码不能由少数几个字符反复组成",
            "Too repetitive: a few characters over and over",
        )
    if _is_run(lowered):
        return problem(
            "sequence",
            "密码不能是连续的数字、字母或键盘上相邻的键",
            "A run of digits, letters or neighbouring keys",
        )
    if lowered.isdigit() and len(lowered) < MIN_DIGITS_ONLY:
        return problem(
            "digits_only",
            f"纯数字密码至少 {MIN_DIGITS_ONLY} 位（生日、电话号码容易被猜中）",
            f"Digits alone: at least {MIN_DIGITS_ONLY} (birthdays, phone numbers are guessed)",
        )
    for own in (user_id.lower(), name.lower()):
        if len(own) >= 3 and (own in lowered or own[::-1] in lowered):
            return problem(
                "personal", "密码不能包含用户名或姓名", "Must not contain the user id or name"
            )
    if _is_common(lowered):
        return problem(
            "common", "这是常见密码，很容易被猜中，请换一个", "A common password: easily guessed"
        )
    return []
