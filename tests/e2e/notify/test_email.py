"""Email over a real SMTP server (aiosmtpd: STARTTLS, implicit TLS, AUTH, temporary failures) and over SES (moto)."""

from __future__ import annotations

import email
import email.policy
import logging
import random
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from sgwatch.model import DeliveryStatus
from sgwatch.notify.channels import make_sender
from sgwatch.notify.config import parse_notify
from sgwatch.notify.delivery import deliver_alerts
from sgwatch.notify.engine import run_jobs
from sgwatch.notify.runtime import Runtime

from .conftest import Mailbox

pytestmark = pytest.mark.e2e


SmtpServer = Callable[..., tuple[Mailbox, int]]


@pytest.fixture
def smtp_tls(smtp_server: SmtpServer) -> tuple[Mailbox, int]:
    """A relay that requires STARTTLS and AUTH."""
    return smtp_server(tls="starttls", auth=True)


def smtp_config(config: Any, port: int, cert: Path | None, password: str = "s3cret", extra: str = "") -> Any:
    ca = f"    ca_file: {cert}\n" if cert else ""
    return config(
        "notify:\n  - type: email\n    from: sgwatch@example.com\n    to: [secops@example.com, oncall@example.com]\n"
        f"    host: 127.0.0.1\n    port: {port}\n    username: env:SMTP_USER\n    password: env:SMTP_PASS\n{ca}{extra}",
        {"SMTP_USER": "alerts", "SMTP_PASS": password},
    )


def test_starttls_auth_and_both_bodies(
    alerts: ModuleType, smtp_tls: tuple[Mailbox, int], certificate: tuple[Path, Path], config: Any, clock: Any
) -> None:
    mailbox, port = smtp_tls
    (delivery,) = deliver_alerts([alerts.malicious()], smtp_config(config, port, certificate[0]), clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1), delivery.detail
    ((authenticated, over_tls, envelope),) = mailbox.messages
    assert authenticated
    assert over_tls
    assert envelope.mail_from == "sgwatch@example.com"
    assert envelope.rcpt_tos == ["secops@example.com", "oncall@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"].startswith(
        "[sgwatch] CRITICAL: Admin or database port open to the world on sg-0abc1234def567890"
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Description: <!channel> <https://evil.example|click>" in text
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in html
    assert "<!channel>" not in html
    assert "<script>" not in html


def test_implicit_tls_with_auth(
    alerts: ModuleType, smtp_server: SmtpServer, certificate: tuple[Path, Path], config: Any, clock: Any
) -> None:
    mailbox, port = smtp_server(tls="implicit", auth=True)
    cfg = smtp_config(config, port, certificate[0], extra="    ssl: true\n")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1), delivery.detail
    assert delivery.detail == f"accepted by 127.0.0.1:{port}"
    ((authenticated, over_tls, envelope),) = mailbox.messages
    assert authenticated
    assert over_tls
    assert envelope.rcpt_tos == ["secops@example.com", "oncall@example.com"]


def test_wrong_password_is_permanent(
    alerts: ModuleType, smtp_tls: tuple[Mailbox, int], certificate: tuple[Path, Path], config: Any, clock: Any
) -> None:
    _, port = smtp_tls
    cfg = smtp_config(config, port, certificate[0], password="wrong")
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg, clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.FAILED, 1), (DeliveryStatus.FAILED, 0)]
    assert deliveries[0].detail.startswith("authentication failed (SMTP 535")
    assert "wrong" not in deliveries[0].detail


def test_untrusted_certificate_is_refused(
    alerts: ModuleType, smtp_tls: tuple[Mailbox, int], config: Any, clock: Any
) -> None:
    mailbox, port = smtp_tls
    (delivery,) = deliver_alerts([alerts.critical_ssh()], smtp_config(config, port, None), clock=clock)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.detail.startswith("TLS certificate not trusted")
    assert "set ca_file" in delivery.detail
    assert mailbox.messages == []


def test_temporary_4xx_is_retried(alerts: ModuleType, smtp_server: SmtpServer, config: Any, clock: Any) -> None:
    mailbox, port = smtp_server()
    mailbox.rcpt_replies = ["451 4.3.0 try again later"]
    cfg = config(
        "notify:\n  - type: email\n    from: sgwatch@example.com\n    to: secops@example.com\n"
        f"    host: 127.0.0.1\n    port: {port}\n    starttls: false\n"
    )
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(clock.sleeps) == 1
    ((authenticated, over_tls, _),) = mailbox.messages
    assert not authenticated
    assert not over_tls


def test_server_down_is_retried_then_reported(
    alerts: ModuleType, config: Any, clock: Any, free_port: Callable[[], int]
) -> None:
    cfg = config(
        "notify:\n  - type: email\n    from: sgwatch@example.com\n    to: secops@example.com\n"
        f"    host: 127.0.0.1\n    port: {free_port()}\n    starttls: false\n"
    )
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    assert delivery.detail.startswith("gave up after 4 attempts: connection error (Connection refused")


def test_ses_sends_text_and_html(alerts: ModuleType, aws_env: None, config: Any, clock: Any) -> None:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("sesv2", region_name="eu-west-1").create_email_identity(EmailIdentity="sgwatch@example.com")
    cfg = config(
        "notify:\n  - type: email\n    transport: ses\n    from: sgwatch@example.com\n"
        "    to: secops@example.com\n    region: eu-west-1\n"
    )
    (delivery,) = deliver_alerts([alerts.malicious()], cfg, clock=clock)
    assert delivery.status is DeliveryStatus.DELIVERED, delivery.detail
    assert delivery.detail.startswith("SES message ")
    (sent,) = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
    assert sent.subject.startswith("[sgwatch] CRITICAL: Admin or database port open to the world")
    assert "&lt;!channel&gt;" in sent.body
    assert "<!channel>" not in sent.body


def test_ses_unverified_sender_is_permanent(alerts: ModuleType, aws_env: None, config: Any, clock: Any) -> None:
    cfg = config(
        "notify:\n  - type: email\n    transport: ses\n    from: nobody@example.org\n"
        "    to: secops@example.com\n    region: eu-west-1\n"
    )
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg, clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.FAILED, 1), (DeliveryStatus.FAILED, 0)]
    assert deliveries[0].detail.startswith("MessageRejected")


def test_ca_file_gone_after_parsing_fails_the_channel_once_without_a_traceback(
    alerts: ModuleType,
    smtp_tls: tuple[Mailbox, int],
    certificate: tuple[Path, Path],
    config: Any,
    clock: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    mailbox, port = smtp_tls
    bundle = tmp_path / "relay-ca.pem"
    bundle.write_bytes(certificate[0].read_bytes())
    notify = parse_notify(smtp_config(config, port, bundle))  # the config is checked: the file is there
    bundle.unlink()  # ... and goes away before the run sends
    (channel,) = notify.channels
    runtime = Runtime(environ={"SMTP_USER": "alerts", "SMTP_PASS": "s3cret"}, clock=clock, timeout=1.0)
    try:
        outcomes = run_jobs(
            [(channel, make_sender(channel, runtime), [alerts.critical_ssh(), alerts.multi_rule()])],
            notify.delivery,
            runtime,
            rng=random.Random(1),
            on_delivered=lambda _c, _m: None,
        )
    finally:
        runtime.close()
    reason = f"cannot load ca_file {bundle} (No such file or directory); give a readable PEM CA bundle"
    assert [(o.status, o.attempts, o.detail) for o in outcomes] == [
        (DeliveryStatus.FAILED, 1, reason),
        (DeliveryStatus.FAILED, 0, f"not sent: channel failed permanently: {reason}"),
    ]
    assert mailbox.messages == []
    assert not [r for r in caplog.records if r.exc_info or "adapter_error" in r.getMessage()]


def test_ca_file_that_is_not_pem_is_permanent_and_named(
    alerts: ModuleType, smtp_tls: tuple[Mailbox, int], config: Any, clock: Any, tmp_path: Path
) -> None:
    mailbox, port = smtp_tls
    bundle = tmp_path / "notes.txt"
    bundle.write_text("this is not a certificate\n", encoding="utf-8")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], smtp_config(config, port, bundle), clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.detail.startswith(f"cannot load ca_file {bundle} (")
    assert delivery.detail.endswith("); give a readable PEM CA bundle")
    assert "internal error" not in delivery.detail
    assert mailbox.messages == []


class OnlyXoauth2(Mailbox):
    """A relay that offers only an AUTH mechanism smtplib cannot speak."""

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        return AuthResult(success=False, handled=False)


def test_no_common_auth_mechanism_is_permanent_for_the_channel(
    alerts: ModuleType, smtp_server: SmtpServer, config: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    mailbox, port = smtp_server(
        mailbox=OnlyXoauth2(), auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"]
    )
    cfg = config(
        "notify:\n  - type: email\n    from: sgwatch@example.com\n    to: secops@example.com\n"
        f"    host: 127.0.0.1\n    port: {port}\n    starttls: false\n"
        "    username: env:SMTP_USER\n    password: env:SMTP_PASS\n",
        {"SMTP_USER": "alerts", "SMTP_PASS": "s3cret"},
    )
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg, clock=clock)
    reason = "SMTP failed (No suitable authentication method found.); check host, port, starttls/ssl and auth settings"
    assert [(d.status, d.attempts, d.detail) for d in deliveries] == [
        (DeliveryStatus.FAILED, 1, reason),
        (DeliveryStatus.FAILED, 0, f"not sent: channel failed permanently: {reason}"),
    ]
    assert mailbox.messages == []
    assert clock.sleeps == []
    assert not [r for r in caplog.records if r.exc_info or "adapter_error" in r.getMessage()]
