"""Login: the token checked, the office key pinned and enforced, TLS verified, the profile saved."""

from __future__ import annotations

import base64
import datetime as dt
import io
import ipaddress
import json
import re
import ssl
import stat
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cache.store import Store
from fieldkit import config, paths
from fieldkit.cli import main
from fieldkit.sync import SyncClient, SyncError, login
from fieldkit.sync.http import make_client
from tests.fault_proxy import Reply, ScriptedServer

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
ME = {"id": "T0001", "name": "李娜", "role": "technician", "zone": "430702"}


def office_routes(key: list[str], token: str = "good-token") -> dict:
    """/me and /office of a scripted office whose key can be swapped (key[0])."""

    def me(query: str, body: bytes) -> Reply:
        return Reply(200, json.dumps(ME).encode())

    def office(query: str, body: bytes) -> Reply:
        return Reply(200, json.dumps({"name": "常德市武陵区教育局", "public_key": key[0]}).encode())

    return {"/api/v1/me": me, "/api/v1/office": office}


def _unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_login_pins_the_key_and_saves_an_owner_only_token() -> None:
    with ScriptedServer(office_routes([KEY_A])) as office:
        settings = await login(office.url, "  good-token\n", "default")
    assert settings.office_public_key == KEY_A
    assert settings.technician is not None and settings.technician.name == "李娜"
    saved = config.load("default")
    assert saved.server_url == office.url and saved.office_public_key == KEY_A
    assert config.load_token("default") == "good-token"
    if sys.platform != "win32":
        assert stat.S_IMODE(paths.token_file("default").stat().st_mode) == 0o600


async def test_login_refuses_an_office_whose_key_changed() -> None:
    key = [KEY_A]
    with ScriptedServer(office_routes(key)) as office:
        await login(office.url, "good-token")
        key[0] = KEY_B
        with pytest.raises(SyncError) as caught:
            await login(office.url, "good-token")
    assert caught.value.kind == "key_changed"
    assert "公钥" in caught.value.zh and "key" in caught.value.en
    assert config.load("default").office_public_key == KEY_A


async def test_sync_refuses_an_office_whose_key_changed() -> None:
    key = [KEY_A]
    with ScriptedServer(office_routes(key)) as office:
        settings = await login(office.url, "good-token")
        key[0] = KEY_B
        with Store.open(settings.cache_path) as store:
            client = SyncClient(settings, store, token="good-token")
            try:
                with pytest.raises(SyncError) as caught:
                    await client.run_round()
            finally:
                await client.aclose()
            assert store.get_meta("last_sync") is None
        assert [p for _, p in office.requests][-1] == "/api/v1/office"
    assert caught.value.kind == "key_changed"


async def test_login_to_an_unreachable_server_saves_nothing() -> None:
    with pytest.raises(SyncError) as caught:
        await login(f"http://127.0.0.1:{_unused_port()}", "good-token")
    assert caught.value.kind == "offline"
    assert "无法连接" in caught.value.zh
    assert not paths.config_file("default").exists()
    assert not paths.token_file("default").exists()


async def test_an_unreachable_or_silent_office_is_said_in_chinese_and_the_detail_in_english() -> (
    None
):
    from tests.silent_office import SilentOffice

    with pytest.raises(SyncError) as refused:
        await login(f"http://127.0.0.1:{_unused_port()}", "good-token")
    with SilentOffice(lifetime=30) as office:
        began = time.monotonic()
        with pytest.raises(SyncError) as silent:
            await login(office.url, "good-token", within=1)
        waited = time.monotonic() - began
    assert waited < 3, f"login waited {waited:.1f} s for a silent office"
    assert (refused.value.reason, silent.value.reason) == ("refused", "timeout")
    assert "连接被拒绝" in refused.value.zh and "没有及时回应" in silent.value.zh
    for error in (refused.value, silent.value):
        assert re.findall(r"[A-Za-z]{3,}", error.zh) == [], error.zh  # no ConnectError…
        assert error.detail and error.detail in error.en  # …which the English (and log) keep
    assert not paths.config_file("default").exists()


async def test_login_with_a_refused_token_says_so() -> None:
    routes = {"/api/v1/me": lambda q, b: Reply(401, b'{"error":"unauthorized","message":"bad"}')}
    with ScriptedServer(routes) as office:
        with pytest.raises(SyncError) as caught:
            await login(office.url, "wrong")
    assert caught.value.kind == "auth"
    assert "令牌无效或已被撤销" in caught.value.zh
    assert not paths.token_file("default").exists()


async def test_login_to_a_web_page_is_a_protocol_error() -> None:
    routes = {"/api/v1/me": lambda q, b: Reply(200, b"<html>router login</html>", "text/html")}
    with ScriptedServer(routes) as office:
        with pytest.raises(SyncError) as caught:
            await login(office.url, "good-token")
    assert caught.value.kind == "protocol"
    assert "JSON" in caught.value.en


async def test_plain_http_to_another_computer_is_refused() -> None:
    with pytest.raises(SyncError) as caught:
        await login("http://office.example.cn:8400", "good-token")
    assert caught.value.kind == "config" and "https" in caught.value.en


def _tls_files(tmp: Path) -> tuple[ssl.SSLContext, Path]:
    """A private CA and a certificate for 127.0.0.1 it signed: (server context, CA PEM file)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Office CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=9))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, ca_file


async def test_tls_is_verified_and_the_offices_own_ca_can_be_trusted(tmp_path: Path) -> None:
    context, ca_file = _tls_files(tmp_path)
    with ScriptedServer(office_routes([KEY_A]), tls=context) as office:
        with pytest.raises(SyncError) as caught:
            await login(office.url, "good-token")
        assert caught.value.kind == "config" and "--ca" in caught.value.en
        assert not paths.config_file("default").exists()
        settings = await login(office.url, "good-token", ca_file=str(ca_file))
    assert settings.ca_file == str(ca_file.resolve())
    assert config.load("default").ca_file == str(ca_file.resolve())


async def test_a_plain_http_offices_client_still_verifies_any_tls_it_meets(tmp_path: Path) -> None:
    """The client of an http office (this computer) loads no CA, but verification is not off:
    sent to an https address anyway, it refuses the certificate."""
    context, _ = _tls_files(tmp_path)
    with ScriptedServer(office_routes([KEY_A]), tls=context) as office:
        async with make_client("http://127.0.0.1:8400", "good-token") as http:
            with pytest.raises(httpx.ConnectError) as caught:
                await http.get(office.url + "/api/v1/office")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_cli_login_reads_the_token_from_a_file_or_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text("good-token\n", "utf-8")
    with ScriptedServer(office_routes([KEY_A])) as office:
        assert main(["login", office.url, "--token-file", str(token_file)]) == 0
        assert "李娜" in capsys.readouterr().out
        monkeypatch.setattr(sys, "stdin", io.StringIO("other-token\n"))
        assert main(["--profile", "second", "login", office.url, "--token-file", "-"]) == 0
    assert config.load_token("default") == "good-token"
    assert config.load_token("second") == "other-token"


def test_cli_login_failure_exits_non_zero_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("good-token\n"))
    code = main(["login", f"http://127.0.0.1:{_unused_port()}", "--token-file", "-"])
    assert code != 0
    assert "登录失败" in capsys.readouterr().err


def test_cli_login_asks_for_the_token_without_echo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return "good-token"

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a technician at a terminal
    with ScriptedServer(office_routes([KEY_A])) as office:
        assert main(["login", office.url]) == 0
    assert asked == ["令牌 / Token: "]
    assert config.load_token("default") == "good-token"
