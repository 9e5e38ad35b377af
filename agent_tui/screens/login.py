"""Login (登录): server, user, password; the last server and user are remembered.

A wrong password and an unreachable server get their own message beside the field. When the
server cannot be reached but this user logged in here before (same password), the seat opens
offline: cases queue in the outbox and leave when the server answers again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Static

from agent_tui.client.last_login import LoginForm, remembered_login
from agent_tui.i18n import N_, t
from agent_tui.widgets.footer import SteadyFooter

if TYPE_CHECKING:
    from agent_tui.client.session import Login  # noqa: F401 (named in the base class below)


class LoginScreen(Screen["Login"]):
    HELP_TITLE = N_("登录")
    BINDINGS = [
        Binding("ctrl+l", "login", "登录", tooltip="用填写的账号登录", id="login.submit"),
    ]

    def __init__(self, form: LoginForm, data_dir: Path) -> None:
        super().__init__()
        self.form = form
        self.data_dir = data_dir

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="login"):
            yield Label(t("驻马店 12345 坐席登录"), classes="section-title")
            for field, label, widget in (
                (
                    "server",
                    t("中心库地址"),
                    Input(id="login-server", placeholder=t("http://主机:8345")),
                ),
                ("user", t("工号"), Input(id="login-user", placeholder=t("如 agent01"))),
                ("password", t("密码"), Input(id="login-password", password=True)),
            ):
                yield Label(label, classes="field-label")
                yield widget
                yield Static("", id=f"login-{field}-error", classes="field-error")
            yield Static(self.form.hint, id="login-hint", classes="hint")
            yield Static("", id="login-status", classes="hint")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("驻马店 12345 · 登录")
        last_server, last_user = remembered_login(self.data_dir)
        server = self.form.server_url or last_server
        user = self.form.user_id or (last_user if last_server == server else "")
        self.query_one("#login-server", Input).value = server
        self.query_one("#login-user", Input).value = user
        self.query_one("#login-password", Input).value = self.form.password
        first_empty = next(
            (i for i in self.query(Input) if not i.value), self.query_one("#login-password")
        )
        first_empty.focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if event.control.id == "login-password":
            self.action_login()
        else:
            self.focus_next()

    def _error(self, field: str, message: str) -> None:
        node = self.query_one(f"#login-{field}-error", Static)
        node.update(message)
        node.set_class(bool(message), "-shown")

    def action_login(self) -> None:
        for field in ("server", "user", "password"):
            self._error(field, "")
        self.query_one("#login-status", Static).update(t("正在连接中心库…"))
        self._login(
            self.query_one("#login-server", Input).value,
            self.query_one("#login-user", Input).value,
            self.query_one("#login-password", Input).value,
        )

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _login(self, server: str, user: str, password: str) -> None:
        # Imported here: httpx and the wire models need not delay the form's first paint.
        import asyncio

        from agent_tui.client.session import LoginFailed, StoreStarting, open_seat

        status = self.query_one("#login-status", Static)
        while True:
            try:
                login = await open_seat(
                    server,
                    user,
                    password,
                    self.data_dir,
                    store_key=self.form.store_key,
                    starting_wait=0,
                )
            except StoreStarting as exc:
                # Not an error: the store is being made; say so and log in once it answers.
                status.update(exc.message)
                await asyncio.sleep(0.5)
                continue
            except LoginFailed as exc:
                status.update("")
                self._error(exc.field, exc.message)
                self.query_one(f"#login-{exc.field}", Input).focus()
                return
            self.dismiss(login)
            return
