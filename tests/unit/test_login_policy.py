"""The login policy's arithmetic: delays, the keys counted, the address rate limit."""

from __future__ import annotations

from datetime import timedelta

from agent_tui.server.login_limit import LoginRateLimit
from agent_tui.server.throttle import Keys, LoginPolicy, client_key, user_key


def test_the_delay_doubles_after_the_free_tries_up_to_the_cap() -> None:
    policy = LoginPolicy()
    delays = [policy.delay("pair", n).total_seconds() for n in range(3, 12)]
    assert delays == [0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert policy.delay("address", 29) == timedelta(0)
    assert policy.delay("address", 30) == timedelta(seconds=30)
    assert policy.delay("user", 20) == timedelta(seconds=30)
    slow = LoginPolicy(first_delay=timedelta(hours=1), max_delay=timedelta(days=1))
    assert slow.delay("pair", 10_000) == timedelta(days=1)  # no overflow


def test_addresses_and_user_ids_are_counted_as_one_attacker_would_vary_them() -> None:
    assert client_key("10.1.2.3") == "10.1.2.3"
    # One host holds a whole IPv6 /64: each of its addresses counts as the same.
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3"
    assert client_key("") == "unknown"
    assert user_key("agent01") == "agent01"
    assert user_key("agent\x00'; drop") != "agent\x00'; drop"
    assert user_key("agent\x00").startswith("#") and len(user_key("x" * 32 + "é")) == 33
    keys = Keys.of("agent01", "10.1.2.3")
    assert keys.items() == [
        ("address", "10.1.2.3"),
        ("pair", "agent01@10.1.2.3"),
        ("user", "agent01"),
    ]


def test_the_address_rate_limit_is_a_bucket() -> None:
    limit = LoginRateLimit(None, per_minute=60, burst=3)
    assert [limit.take("a", now=0.0) for _ in range(3)] == [0, 0, 0]
    assert limit.take("a", now=0.0) == 1.0  # a token a second
    assert limit.take("b", now=0.0) == 0  # another address has its own
    assert limit.take("a", now=1.0) == 0
    assert limit.take("a", now=1.5) == 0.5
