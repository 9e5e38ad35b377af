"""A first walk through the API on both engines."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api


def new_case(api: Api, user: str = "agent01", **over: object) -> dict:  # type: ignore[type-arg]
    body = {
        "uuid": str(uuid.uuid4()),
        "appeal_type": "complaint",
        "content": "金山路与骏达路交叉口北侧商铺张贴小广告",
        "caller_phone": "13912345678",
        "category": "0101",
        "address": {"county": "驿城区", "road": "金山路与骏达路交叉口"},
        **over,
    }
    r = api.post("/api/cases", user, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_health_needs_no_token(api: Api) -> None:
    r = api.client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_create_dispatch_sign(api: Api) -> None:
    case = new_case(api)
    assert case["number"] == "ZMD-20261126-0001" and case["version"] == 1
    r = api.post(
        f"/api/cases/{case['uuid']}/dispatch",
        json={"command_id": str(uuid.uuid4()), "version": 1, "department": "CGJ"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatched" and r.json()["handling_deadline"]
    r = api.post(
        f"/api/cases/{case['uuid']}/sign",
        "cgj",
        json={"command_id": str(uuid.uuid4()), "version": 2},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress"
