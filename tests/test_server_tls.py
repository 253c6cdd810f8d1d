"""`fieldkit serve --certfile --keyfile` serves HTTPS that a client trusting the certificate reaches."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live_server import admin, free_port


def self_signed(folder: Path, name: str = "office") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fieldkit test office")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / f"{name}.crt", folder / f"{name}.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def serve(db: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    """`fieldkit serve` in its own process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fieldkit.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_serve_with_a_certificate_answers_https(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    certfile, keyfile = self_signed(tmp_path)
    port = free_port()
    process = serve(db, port, "--certfile", str(certfile), "--keyfile", str(keyfile))
    trusting = ssl.create_default_context(cafile=str(certfile))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"https://127.0.0.1:{port}/api/v1/office", verify=trusting, timeout=2
                )
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "fieldkit serve did not come up"
                time.sleep(0.1)
        assert answer.status_code == 200
        assert answer.json()["name"] == "湖南省校外培训监管办公室"
        with pytest.raises(httpx.ConnectError):  # a client that does not trust it refuses
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=2)
        with pytest.raises(httpx.TransportError):  # and plain HTTP gets no answer
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"https://127.0.0.1:{port}" in output


@pytest.mark.parametrize("given", ["cert_only", "key_only", "missing_file", "wrong_key"])
def test_serve_refuses_unusable_tls_options_clearly(tmp_path: Path, given: str) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    certfile, keyfile = self_signed(tmp_path)
    _, other_key = self_signed(tmp_path, "other")
    argv = {
        "cert_only": ["--certfile", str(certfile)],
        "key_only": ["--keyfile", str(keyfile)],
        "missing_file": ["--certfile", str(tmp_path / "nope.crt"), "--keyfile", str(keyfile)],
        "wrong_key": ["--certfile", str(certfile), "--keyfile", str(other_key)],
    }[given]
    process = serve(db, free_port(), *argv)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    expected = {
        "cert_only": "both --certfile and --keyfile",
        "key_only": "both --certfile",
        "missing_file": "nope.crt' not found",
        "wrong_key": "matching PEM files",
    }[given]
    assert expected in output and "错误" in output and "Traceback" not in output
