"""Real local parts for delivery tests: an HTTP sink on 127.0.0.1 with scripted replies, an SMTP server
(aiosmtpd) on 127.0.0.1 with a self-signed certificate, AWS via moto in-process, settings with fast retry
timings."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import textwrap
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sgwatch.settings import Settings, load_settings_text

FAST = """
delivery:
  timeout: 0.5
  backoff_base: 0.5
  backoff_max: 4
  retry_after_max: 120
  max_attempts: 4
"""

Tls = Literal["none", "starttls", "implicit"]


@pytest.fixture
def sink(http_sink: Callable[..., Any]) -> Any:
    """An HTTP sink on 127.0.0.1 (tests/support/http_sink.py): records every POST, replies as scripted."""
    return http_sink()


def make_settings(text: str, environ: dict[str, str] | None = None, *, fast: bool = True) -> Settings:
    body = textwrap.dedent(text)
    if fast and "delivery:" not in body:
        body = FAST + body
    return load_settings_text(body, "cfg.yaml", environ=environ or {})


@pytest.fixture
def config() -> Any:
    """``config(yaml_text, environ)``: Settings with fast retry timings unless the text sets delivery:."""
    return make_settings


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch,
    aws_environ: Callable[..., dict[str, str | None]],
    support: Callable[[str], ModuleType],
) -> Iterator[None]:
    """Fake credentials and region; moto intercepts every AWS call in-process (a clean account per test)."""
    from moto import mock_aws

    support("support/aws.py").apply(monkeypatch, aws_environ(None))
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert.pem, key.pem); the cert is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    """The aiosmtpd handler: keeps every accepted message as ``(authenticated, over_tls, envelope)``."""

    messages: list[Any] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)  # replies to RCPT TO, used in order

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        over_tls = server.transport.get_extra_info("ssl_object") is not None  # STARTTLS or implicit TLS
        self.messages.append((session.authenticated, over_tls, envelope))
        return "250 Message accepted"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    """Accepts only the login ``alerts`` with the password ``s3cret``."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"alerts", b"s3cret")
    return AuthResult(success=ok, handled=False)  # unhandled failure: the server replies 535


@pytest.fixture
def smtp_server(
    certificate: tuple[Path, Path], free_port: Callable[[], int]
) -> Iterator[Callable[..., tuple[Mailbox, int]]]:
    """``smtp_server(tls="none", auth=False, mailbox=None, **options)``: a started aiosmtpd server on a free
    port of 127.0.0.1, stopped after the test; returns ``(mailbox, port)``.

    ``tls``: "none", "starttls" (required before MAIL) or "implicit" (TLS from the first byte), with
    ``certificate``. ``auth``: AUTH required (``authenticate``). ``mailbox``: the handler (a
    ``Mailbox`` by default). ``options`` go to aiosmtpd's ``Controller`` as they are.
    """
    started: list[Controller] = []

    def start(
        *, tls: Tls = "none", auth: bool = False, mailbox: Mailbox | None = None, **options: Any
    ) -> tuple[Mailbox, int]:
        handler = Mailbox() if mailbox is None else mailbox
        port = free_port()
        settings: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "server_hostname": "localhost"}
        if tls != "none":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            if tls == "starttls":
                settings.update(tls_context=context, require_starttls=True)
            else:  # aiosmtpd does not count implicit TLS as TLS for AUTH: allow it (and hush its warning)
                settings.update(ssl_context=context, auth_require_tls=False)
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
        if auth:
            settings.update(authenticator=authenticate, auth_required=True)
        controller = Controller(handler, **(settings | options))
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()
