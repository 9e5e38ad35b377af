"""The seat's HTTP client: one ``httpx.AsyncClient``, typed answers, errors a UI can show.

Every failure becomes one of the exceptions below, never a raw httpx error: ``Offline`` (the
server cannot be reached: queue and retry; ``Untrusted``, its certificate does not verify),
``Unauthorized``, ``Conflict`` (carries the server's current case), ``Invalid`` (carries the
per-field messages), ``Forbidden``, ``NotFound``, and ``ApiError`` for anything else. An
expired token is renewed by logging in again once, transparently.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
from pydantic import TypeAdapter

from agent_tui import wire
from agent_tui.config import Settings
from agent_tui.i18n import N_, either, t

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
PLACE_KEYS = ("county", "township", "village", "road")
#: The stream's pages come at least every 15 s (the server's keepalive): three missed is dead.
STREAM_TIMEOUT = httpx.Timeout(10.0, connect=3.0, read=45.0)
_CASES: TypeAdapter[list[wire.CasePublic]] = TypeAdapter(list[wire.CasePublic])


class ApiError(Exception):
    """A request the server answered with an error; ``message`` is Chinese, for the UI."""

    def __init__(
        self, status: int, code: str, message: str, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body or {}


class Offline(ApiError):
    def __init__(self, reason: str) -> None:
        super().__init__(0, "offline", t("无法连接中心库：{reason}", reason=reason))

    @classmethod
    def because(cls, exc: BaseException) -> Offline:
        """Offline, saying why in words an agent understands (not an exception's name)."""
        return cls(t(_TRANSPORT_REASONS.get(type(exc).__name__, N_("网络故障"))))


class Starting(Offline):
    """503 ``starting``: the store is there and still being made (migrations, the demo's first
    seed); it answers in a moment, so a login waits for it instead of going offline."""


#: httpx's transport errors as the seat bar says them (Chinese keys: ``t`` translates).
_TRANSPORT_REASONS = {
    "ConnectError": N_("连接被拒绝，中心库可能未启动或网络不通"),
    "ConnectTimeout": N_("连接超时，网络不通或中心库无响应"),
    "ReadTimeout": N_("中心库响应超时"),
    "WriteTimeout": N_("发送超时"),
    "PoolTimeout": N_("连接繁忙，稍后重试"),
    "ReadError": N_("连接中断"),
    "WriteError": N_("连接中断"),
    "RemoteProtocolError": N_("连接被中心库关闭"),
    "LocalProtocolError": N_("请求无法发送"),
    "ProxyError": N_("代理服务器错误"),
    "UnsupportedProtocol": N_("中心库地址有误"),
    "ConnectionRefusedError": N_("连接被拒绝，中心库可能未启动或网络不通"),
}


class Untrusted(Offline):
    """The store's HTTPS certificate does not verify: a setting to fix (``ca_file``), not an
    outage to wait out."""

    def __init__(self) -> None:
        super().__init__(t("中心库的证书无法验证（请在设置 ca_file 中指定中心的 CA 证书）"))


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    """409: the step is not allowed now, or the case changed (``current`` is the server's)."""

    @property
    def current(self) -> wire.CasePublic | None:
        case = self.body.get("case")
        return wire.CasePublic.model_validate(case) if case else None


class Invalid(ApiError):
    """422: ``errors`` maps each field to its message, to show beside the field."""

    @property
    def errors(self) -> dict[str, str]:
        return {
            e.get("field", ""): either(e.get("message", ""), e.get("message_en", ""))
            for e in self.body.get("errors", [])
        }


class Throttled(ApiError):
    pass


_ERRORS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
    429: Throttled,
}


def _untrusted(exc: BaseException) -> bool:
    """A TLS failure to verify the store's certificate, anywhere in the error's chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


class ApiClient:
    """Talks to one central store as one user."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        password: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        """``verify``: how an https store's certificate is checked (default: the settings'
        ``ca_file``, else the system's trust store; ``Settings.tls_context``)."""
        self.base_url = base_url.rstrip("/")
        if verify is None and self.base_url.startswith("https:"):
            verify = Settings().tls_context()
        self.user_id = user_id
        self._password = password
        self._token: str | None = None
        self.user: wire.UserPublic | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport, verify=verify or True
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kw)
        except (httpx.TransportError, OSError) as exc:
            if _untrusted(exc):
                raise Untrusted() from exc
            raise Offline.because(exc) from exc

    @staticmethod
    def _raise(response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        kind = _ERRORS.get(response.status_code, ApiError)
        if response.status_code >= 500:
            # A store that says why (busy with logins, its database away) is quoted.
            said = either(str(body.get("message", "")), str(body.get("message_en", "")))
            starting = response.status_code == 503 and body.get("code") == "starting"
            raise (Starting if starting else Offline)(
                said or t("服务器错误 {status}", status=response.status_code)
            )
        raise kind(
            response.status_code,
            str(body.get("code", f"http_{response.status_code}")),
            # The server says it in both languages: the seat shows its own.
            either(
                str(body.get("message", response.reason_phrase)), str(body.get("message_en", ""))
            ),
            body,
        )

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """An authenticated request; logs in first, and again once if the token expired."""
        if self._token is None:
            await self.login()
        extra = kw.pop("headers", {})
        for attempt in (1, 2):
            headers = {**extra, "Authorization": f"Bearer {self._token}"}
            response = await self._send(method, path, headers=headers, **kw)
            if response.status_code == 401 and attempt == 1:
                await self.login()
                continue
            if response.status_code >= 400:
                self._raise(response)
            return response
        raise AssertionError("unreachable")

    # -- endpoints -----------------------------------------------------------------------------

    async def login(self) -> wire.UserPublic:
        response = await self._send(
            "POST", "/api/auth/login", json={"user_id": self.user_id, "password": self._password}
        )
        if response.status_code >= 400:
            self._raise(response)
        answer = wire.TokenResponse.model_validate_json(response.content)
        self._token = answer.token
        self.user = answer.user
        return answer.user

    async def health(self) -> dict[str, Any]:
        response = await self._send("GET", "/api/health")
        if response.status_code >= 400:
            self._raise(response)
        body: dict[str, Any] = response.json()
        return body

    async def feed_head(self) -> int:
        """The feed's current position (behind a token). A store from before
        ``/api/changes/head`` said it in its health answer."""
        try:
            response = await self.request("GET", "/api/changes/head")
        except NotFound:
            return int((await self.health()).get("last_seq", 0))
        return wire.ChangesPage.model_validate_json(response.content).last_seq

    async def create_case(self, request: wire.CaseCreate) -> tuple[wire.CasePublic, bool]:
        """Returns the case and whether this call created it (False: it already existed)."""
        body = request.model_dump(mode="json")
        if not body.get("number"):  # the store numbers it: say nothing of numbers
            body.pop("number", None)
            body.pop("seat_id", None)
        response = await self.request("POST", "/api/cases", json=body)
        return wire.CasePublic.model_validate_json(response.content), response.status_code == 201

    async def step(self, case_uuid: str, step: str, request: wire.StepBody) -> wire.CasePublic:
        path = f"/api/cases/{case_uuid}/{str(step).replace('_', '-')}"
        response = await self.request("POST", path, json=request.model_dump(mode="json"))
        return wire.CasePublic.model_validate_json(response.content)

    async def get_case(self, case_uuid: str) -> wire.CasePublic:
        response = await self.request("GET", f"/api/cases/{case_uuid}")
        return wire.CasePublic.model_validate_json(response.content)

    async def list_cases(self, **params: Any) -> wire.CasePage:
        response = await self.request("GET", "/api/cases", params=params)
        return wire.CasePage.model_validate_json(response.content)

    async def related_candidates(
        self, category: str, address: dict[str, Any]
    ) -> list[wire.CasePublic]:
        """Open cases of the same category at the same village or road (the server's window)."""
        params = {"category": category}
        params.update({k: str(address.get(k) or "") for k in PLACE_KEYS})
        response = await self.request("GET", "/api/cases/related", params=params)
        return _CASES.validate_json(response.content)

    async def caller_history(self, phone: str, limit: int = 20) -> list[wire.CasePublic]:
        response = await self.request("GET", f"/api/callers/{phone}/cases", params={"limit": limit})
        return [wire.CasePublic.model_validate(c) for c in response.json()]

    async def changes(self, after: int, wait: float = 0) -> wire.ChangesPage:
        # The read timeout must outlast the long-poll.
        timeout = httpx.Timeout(wait + 10.0, connect=3.0)
        response = await self.request(
            "GET", "/api/changes", params={"after": after, "wait": wait}, timeout=timeout
        )
        return wire.ChangesPage.model_validate_json(response.content)

    async def stream_changes(self, after: int) -> AsyncIterator[wire.ChangesPage]:
        """The change feed as one long response (``/api/changes/stream``): each page as it
        happens, an empty one when quiet (the read timeout catches a dead link). Ends when the
        server ends the stream; the caller connects again from the last page's position."""
        if self._token is None:
            await self.login()
        for attempt in (1, 2):
            request = self._http.build_request(
                "GET",
                "/api/changes/stream",
                params={"after": after},
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=STREAM_TIMEOUT,
            )
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.TransportError, OSError) as exc:
                raise Offline.because(exc) from exc
            try:
                if response.status_code >= 400:
                    await response.aread()
                    if response.status_code == 401 and attempt == 1:
                        await self.login()
                        continue
                    self._raise(response)
                async for line in response.aiter_lines():
                    if line:
                        yield wire.ChangesPage.model_validate_json(line)
                return
            except (httpx.TransportError, OSError) as exc:
                raise Offline.because(exc) from exc
            finally:
                await response.aclose()

    async def heartbeat(self, seat_id: str, outbox: int) -> None:
        await self.request(
            "POST", "/api/seats/heartbeat", json={"seat_id": seat_id, "outbox": outbox}
        )

    async def reserve_numbers(
        self, seat_id: str, count: int, year: int | None = None
    ) -> wire.NumberBlock:
        """A block of case numbers for this seat to hand out at save (online or offline)."""
        body: dict[str, Any] = {"seat_id": seat_id, "count": count}
        if year is not None:
            body["year"] = year
        response = await self.request("POST", "/api/numbers/reserve", json=body)
        return wire.NumberBlock.model_validate_json(response.content)

    async def reference_sets(self) -> list[wire.ReferenceInfo]:
        response = await self.request("GET", "/api/reference")
        return [wire.ReferenceInfo.model_validate(r) for r in response.json()]

    async def reference(self, name: str, etag: str = "") -> tuple[Any, str, int] | None:
        """The set's body, ETag and version; None when ``etag`` is still current (304)."""
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        response = await self.request("GET", f"/api/reference/{name}", headers=headers)
        if response.status_code == 304:
            return None
        return (
            response.json(),
            response.headers.get("ETag", "").strip('"'),
            int(response.headers.get("X-Reference-Version", "0")),
        )

    # -- the lead console ----------------------------------------------------------------------

    async def dashboard(self) -> wire.Dashboard:
        response = await self.request("GET", "/api/reports/dashboard")
        return wire.Dashboard.model_validate_json(response.content)

    async def hotspots(self) -> list[wire.Hotspot]:
        response = await self.request("GET", "/api/reports/hotspots")
        return [wire.Hotspot.model_validate(h) for h in response.json()]

    async def kpis(
        self, start: datetime, end: datetime, group_by: str = "none"
    ) -> wire.KpiReportOut:
        """The KPIs over [start, end); ``group_by``: none | department | platform | agent."""
        params = {"start": start.isoformat(), "end": end.isoformat(), "group_by": group_by}
        response = await self.request("GET", "/api/reports/kpis", params=params)
        return wire.KpiReportOut.model_validate_json(response.content)

    async def leader_cases(self, start: datetime, end: datetime) -> wire.LeaderTally:
        """Leader-assigned cases (领导交办) registered in [start, end), counted now."""
        params = {"start": start.isoformat(), "end": end.isoformat()}
        response = await self.request("GET", "/api/reports/leader", params=params)
        return wire.LeaderTally.model_validate_json(response.content)

    async def kpi_cases(
        self,
        kpi: str,
        start: datetime,
        end: datetime,
        part: str = "all",
        *,
        limit: int = 50,
        after: str | None = None,
    ) -> wire.CasePage:
        """The cases behind ``kpi`` (on_time, callback, …): ``part`` met | missed | all; pass
        the page's ``next_cursor`` as ``after`` for the next page."""
        params: dict[str, Any] = {
            "kpi": kpi,
            "part": part,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit": limit,
        }
        if after:
            params["after"] = after
        response = await self.request("GET", "/api/reports/kpi-cases", params=params)
        return wire.CasePage.model_validate_json(response.content)
