"""HTTPS between seats and the store (issue 14, transport): the store serves TLS with the
certificate it is given; a seat that trusts the centre's CA (``ca_file``) works, a seat that
does not gets a clear refusal, not a traceback. The certificate is made here (trustme)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from fastapi import FastAPI
from typer.testing import CliRunner

from agent_tui.cli import cli
from agent_tui.client.api import ApiClient, Untrusted
from agent_tui.client.session import LoginFailed, open_seat
from agent_tui.config import Settings
from tests.api.conftest import PASSWORD
from tests.api.live import served


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # the transport is the same on both engines
    from agent_tui.server.db import migrate

    url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(url)
    return url


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = trustme.CA(organization_name="驻马店12345 测试 CA")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(files["ca"])
    cert.private_key_pem.write_to_path(files["key"])
    for i, blob in enumerate(cert.cert_chain_pems):
        blob.write_to_path(files["cert"], append=i > 0)
    return files


@pytest.fixture
def https(app: FastAPI, pki: dict[str, Path]) -> Iterator[str]:
    with served(app, ssl_certfile=str(pki["cert"]), ssl_keyfile=str(pki["key"])) as url:
        assert url.startswith("https://")
        yield url


def test_a_seat_that_trusts_the_centres_ca_works(https: str, pki: dict[str, Path]) -> None:
    async def go() -> None:
        api = ApiClient(
            https, "agent01", PASSWORD, verify=Settings(ca_file=pki["ca"]).tls_context()
        )
        try:
            user = await api.login()
            assert user.user_id == "agent01"
            assert (await api.health())["status"] == "ok"
        finally:
            await api.aclose()

    asyncio.run(go())


def test_the_seat_reads_ca_file_from_its_settings(
    https: str, pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_TUI_CA_FILE", str(pki["ca"]))

    async def go() -> None:
        api = ApiClient(https, "agent01", PASSWORD)
        try:
            assert (await api.login()).user_id == "agent01"
        finally:
            await api.aclose()

    asyncio.run(go())


def test_a_seat_without_the_ca_gets_a_clear_refusal(
    https: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_TUI_CA_FILE", raising=False)

    async def go() -> None:
        api = ApiClient(https, "agent01", PASSWORD, verify=Settings(ca_file=None).tls_context())
        try:
            with pytest.raises(Untrusted) as caught:
                await api.login()
            assert "证书" in caught.value.message and "ca_file" in caught.value.message
        finally:
            await api.aclose()
        # The login form says so too (no offline fallback: it is a setting to fix).
        with pytest.raises(LoginFailed) as failed:
            await open_seat(https, "agent01", PASSWORD, tmp_path / "seat")
        assert failed.value.field == "server" and "证书" in failed.value.message

    asyncio.run(go())


def test_serve_refuses_a_key_that_is_missing_or_not_the_certificates(
    pki: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'c.db'}"]
    result = runner.invoke(cli, ["serve", *db, "--ssl-certfile", str(pki["cert"])])
    assert result.exit_code == 2 and "私钥" in result.output, result.output
    other = trustme.CA().issue_cert("127.0.0.1")
    wrong = tmp_path / "wrong.pem"
    other.private_key_pem.write_to_path(wrong)
    args = ["serve", *db, "--ssl-certfile", str(pki["cert"]), "--ssl-keyfile", str(wrong)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "无法使用证书" in result.output, result.output
