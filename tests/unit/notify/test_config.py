"""The notify: and delivery: sections: defaults, every channel type, and file:line errors."""

from __future__ import annotations

import base64
import importlib
import textwrap
from pathlib import Path

import pytest

from sgwatch.errors import ConfigError, DeliveryError
from sgwatch.model import Severity
from sgwatch.notify.channels import ADAPTERS
from sgwatch.notify.config import (
    CHANNEL_TYPES,
    PAGERDUTY_EVENTS_URL,
    ConsoleConfig,
    EmailConfig,
    NotifyConfig,
    PagerDutyConfig,
    SlackConfig,
    SnsConfig,
    TeamsConfig,
    WebhookConfig,
    parse_notify,
    webhook_key,
)
from sgwatch.notify.fields import BurstGuard, RateLimit
from sgwatch.notify.secretref import SecretRef, SecretResolver
from sgwatch.notify.tuning import DeliveryConfig
from sgwatch.settings import load_settings_text

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def parse(text: str) -> NotifyConfig:
    return parse_notify(load_settings_text(textwrap.dedent(text), "cfg.yaml", environ={}))


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


def test_no_channels_means_one_console_channel() -> None:
    config = parse("policy: p.yaml\n")
    assert len(config.channels) == 1
    console = config.channels[0]
    assert isinstance(console, ConsoleConfig)
    assert (console.name, console.stream, console.min_severity) == ("console", "stderr", Severity.HIGH)


def test_every_channel_type_parses() -> None:
    config = parse(f"""
        notify:
          - type: slack
            webhook_url: env:SLACK_URL
          - type: teams
            url: https://example.invalid/teams
            min_severity: critical
          - type: pagerduty
            routing_key: ssm:/sgwatch/pd
            accounts: ["111122223333", 444455556666]
          - type: email
            from: sgwatch@example.com
            to: [secops@example.com, "Ops <ops@example.com>"]
            host: smtp.example.com
            username: env:SMTP_USER
            password: secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:smtp-AbCdEf#password
          - type: email
            name: ses-mail
            transport: ses
            from: sgwatch@example.com
            to: secops@example.com
            region: eu-west-1
          - type: sns
            topic_arn: arn:aws:sns:eu-west-1:111122223333:sg-alerts
            regions: [eu-west-1]
            findings: [WORLD_ADMIN_PORT_INGRESS]
          - type: webhook
            url: https://hooks.example.invalid/sg
            secret: {WHSEC}
            rate_limit: 5/s
            burst: false
          - type: console
            name: log
            stream: stdout
            min_severity: info
    """)
    slack, teams, pd, smtp, ses, sns, hook, console = config.channels
    assert isinstance(slack, SlackConfig)
    assert slack.url == SecretRef(kind="env", ref="SLACK_URL")
    assert slack.rate_limit == RateLimit(count=1, period=1.0)
    assert slack.burst == BurstGuard(max_alerts=10, window=60.0)
    assert isinstance(teams, TeamsConfig)
    assert teams.min_severity is Severity.CRITICAL
    assert isinstance(pd, PagerDutyConfig)
    assert pd.url == PAGERDUTY_EVENTS_URL
    assert pd.routing_key.describe() == "ssm:/sgwatch/pd"
    assert pd.accounts == ("111122223333", "444455556666")
    assert pd.rate_limit == RateLimit(count=120, period=60.0)
    assert isinstance(smtp, EmailConfig)
    assert (smtp.transport, smtp.port, smtp.starttls) == ("smtp", 587, True)
    assert smtp.recipients == ("secops@example.com", "Ops <ops@example.com>")
    assert smtp.password is not None
    assert smtp.password.kind == "secretsmanager"
    assert isinstance(ses, EmailConfig)
    assert (ses.name, ses.transport, ses.region) == ("ses-mail", "ses", "eu-west-1")
    assert isinstance(sns, SnsConfig)
    assert sns.findings == ("WORLD_ADMIN_PORT_INGRESS",)
    assert sns.regions == ("eu-west-1",)
    assert isinstance(hook, WebhookConfig)
    assert hook.secret is not None
    assert hook.burst is None
    assert hook.rate_limit == RateLimit(count=5, period=1.0)
    assert isinstance(console, ConsoleConfig)
    assert console.stream == "stdout"


def test_delivery_section_overrides() -> None:
    config = parse("""
        delivery:
          max_attempts: 3
          backoff_base: 0.5
          backoff_max: 4
          retry_after_max: 10
          deadline: 30
          timeout: 2.5
          rate_limits: {slack: 2/s, pagerduty: unlimited, webhook: 10/5s}
          burst: {max_alerts: 3, window: 10}
        notify:
          - type: slack
            url: https://example.invalid/a
          - type: pagerduty
            routing_key: k
          - type: webhook
            url: https://example.invalid/b
    """)
    delivery = config.delivery
    assert (delivery.max_attempts, delivery.backoff_base, delivery.backoff_max) == (3, 0.5, 4.0)
    assert (delivery.retry_after_max, delivery.deadline, delivery.timeout) == (10.0, 30.0, 2.5)
    slack, pd, hook = config.channels
    assert slack.rate_limit == RateLimit(count=2, period=1.0)
    assert pd.rate_limit is None
    assert hook.rate_limit == RateLimit(count=10, period=5.0)
    assert slack.burst == BurstGuard(max_alerts=3, window=10.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("notify:\n  - type: slak\n", "cfg.yaml:2: notify[0]: type: expected one of slack, teams"),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    chanel: '#sec'\n",
            "cfg.yaml:4: notify[0] (slack): unknown key 'chanel'",
        ),
        ("notify:\n  - type: slack\n", "notify[0] (slack): give exactly one of url or webhook_url"),
        (
            "notify:\n  - type: slack\n    url: ftp://x.invalid\n",
            "cfg.yaml:3: notify[0] (slack): url: expected an http(s) URL",
        ),
        ("notify:\n  - type: slack\n    url: 'env:'\n", "cfg.yaml:3: notify[0] (slack): url: env: reference is empty"),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    min_severity: severe\n",
            "cfg.yaml:4: notify[0] (slack): min_severity: unknown severity 'severe'",
        ),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    accounts: [12345]\n",
            "cfg.yaml:4: notify[0] (slack): accounts: '12345' is not valid (expected 12-digit account ids",
        ),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    regions: [Europe]\n",
            "cfg.yaml:4: notify[0] (slack): regions: 'Europe' is not valid",
        ),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    findings: [ssh-open]\n",
            "cfg.yaml:4: notify[0] (slack): findings: unknown finding id 'ssh-open'",
        ),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid/1\n  - type: slack\n    url: https://x.invalid/2\n",
            "cfg.yaml:4: notify[1]: channel name 'slack' is already used at cfg.yaml:2",
        ),
        (
            "notify:\n  - type: webhook\n    url: https://x.invalid\n    secret: hunter2\n",
            "cfg.yaml:4: notify[0] (webhook): secret: a webhook secret must start with 'whsec_'",
        ),
        (
            "notify:\n  - type: webhook\n    url: https://x.invalid\n    secret: whsec_@@@\n",
            "cfg.yaml:4: notify[0] (webhook): secret: the part after 'whsec_' is not valid base64",
        ),
        ("notify:\n  - type: pagerduty\n", "cfg.yaml:2: notify[0] (pagerduty): missing required key 'routing_key'"),
        (
            "notify:\n  - type: email\n    from: a@example.com\n    host: h\n",
            "cfg.yaml:2: notify[0] (email): 'to' needs at least one address",
        ),
        (
            "notify:\n  - type: email\n    from: nobody\n    to: a@example.com\n    host: h\n",
            "cfg.yaml:3: notify[0] (email): 'nobody' is not an email address",
        ),
        (
            "notify:\n  - type: email\n    transport: ses\n    from: a@example.com\n    to: b@example.com\n    host: h\n",
            "cfg.yaml:6: notify[0] (email): host: only for transport: smtp",
        ),
        (
            "notify:\n  - type: email\n    from: a@example.com\n    to: b@example.com\n    host: h\n    ssl: true\n"
            "    starttls: true\n",
            "notify[0] (email): choose one of ssl: true (implicit TLS) or starttls: true",
        ),
        (
            "notify:\n  - type: email\n    from: a@example.com\n    to: b@example.com\n    host: h\n    username: u\n",
            "cfg.yaml:6: notify[0] (email): give both username and password, or neither",
        ),
        (
            "notify:\n  - type: sns\n    topic_arn: my-topic\n",
            "cfg.yaml:3: notify[0] (sns): topic_arn: expected arn:aws:sns:",
        ),
        (
            "notify:\n  - type: console\n    stream: file\n",
            "cfg.yaml:3: notify[0] (console): stream: expected stderr or stdout",
        ),
        (
            "notify:\n  - type: slack\n    url: https://x.invalid\n    rate_limit: fast\n",
            "cfg.yaml:4: notify[0] (slack): rate_limit: expected a rate like 1/s",
        ),
        ("delivery:\n  retries: 3\n", "cfg.yaml:2: delivery: unknown key 'retries'"),
        ("delivery:\n  max_attempts: 0\n", "cfg.yaml:2: delivery: max_attempts: expected an integer from 1 to 100"),
        ("delivery:\n  timeout: fast\n", "cfg.yaml:2: delivery: timeout: expected a number of seconds"),
        (
            "delivery:\n  backoff_base: 10\n  backoff_max: 2\n",
            "cfg.yaml:3: delivery: backoff_max (2) is below backoff_base",
        ),
        ("delivery:\n  rate_limits: {sms: 1/s}\n", "cfg.yaml:2: delivery: rate_limits: unknown key 'sms'"),
        ("delivery:\n  burst: {max_alerts: 0}\n", "delivery: burst: max_alerts: expected an integer from 1"),
    ],
)
def test_errors_name_file_line_and_fix(text: str, expected: str) -> None:
    assert expected in error(text)


def test_inline_secret_never_shows_in_repr_or_errors() -> None:
    config = parse("notify:\n  - type: pagerduty\n    routing_key: R0UTINGKEYSECRET\n")
    assert "R0UTINGKEYSECRET" not in repr(config)
    assert "R0UTINGKEYSECRET" not in str(config.channels[0])


def test_env_secrets_resolve_from_settings_environ() -> None:
    resolver = SecretResolver({"SLACK_URL": "https://hooks.example.invalid/T/B/X"})
    assert resolver.resolve(SecretRef.parse("env:SLACK_URL")) == "https://hooks.example.invalid/T/B/X"
    with pytest.raises(DeliveryError, match="environment variable MISSING is not set"):
        resolver.resolve(SecretRef.parse("env:MISSING"))
    with pytest.raises(DeliveryError, match="secret env:EMPTY is empty"):
        SecretResolver({"EMPTY": ""}).resolve(SecretRef.parse("env:EMPTY"))


def test_webhook_key_decodes_the_part_after_whsec() -> None:
    key = webhook_key(WHSEC)
    assert len(key) == 24
    assert base64.b64encode(key).decode() == WHSEC.removeprefix("whsec_")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        webhook_key("whsec_YWJj")


def test_the_documented_example_is_valid() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Alert delivery", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_notify(load_settings_text(example, "README.md", environ={}))
    assert sorted({c.type for c in config.channels}) == sorted(CHANNEL_TYPES)
    assert config.delivery == DeliveryConfig()


def test_every_channel_type_has_an_adapter() -> None:
    assert set(ADAPTERS) == set(CHANNEL_TYPES)
    for target in ADAPTERS.values():
        module_name, _, class_name = target.partition(":")
        assert callable(getattr(importlib.import_module(module_name), class_name))


@pytest.mark.parametrize(
    ("channel", "line"),
    [
        ("slack\n    url: https://[oops-token/x", 3),
        ("teams\n    webhook_url: 'https://[secret-host]/x'", 3),
        ("webhook\n    url: https://[oops-token/x", 3),
        ("pagerduty\n    routing_key: k\n    url: https://[oops-token/x", 4),
    ],
)
def test_an_unparsable_inline_url_is_a_config_error_at_its_line(channel: str, line: int) -> None:
    message = error(f"notify:\n  - type: {channel}\n")
    kind = channel.partition("\n")[0]
    key = "webhook_url" if kind == "teams" else "url"
    assert message.startswith(
        f"cfg.yaml:{line}: notify[0] ({kind}): {key}: cannot be parsed as a URL (check the host part, "
        "e.g. a '[' without ']'); expected an http(s) URL or a secret reference"
    )
    assert "oops-token" not in message
    assert "secret-host" not in message


def email_text(extra: str) -> str:
    return f"notify:\n  - type: email\n    from: a@example.com\n    to: b@example.com\n    host: h\n{extra}"


def test_a_missing_ca_file_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    message = error(email_text(f"    ca_file: {missing}\n"))
    assert message == (
        f"cfg.yaml:6: notify[0] (email): ca_file: {str(missing)!r} is not an existing file "
        "(give the path of a PEM CA bundle, absolute or relative to this file)"
    )
    assert error(email_text(f"    ca_file: {tmp_path}\n")).startswith("cfg.yaml:6: notify[0] (email): ca_file: ")


def test_a_relative_ca_file_is_found_beside_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "relay-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    source = str(tmp_path / "cfg.yaml")
    config = parse_notify(load_settings_text(email_text("    ca_file: relay-ca.pem\n"), source, environ={}))
    (channel,) = config.channels
    assert isinstance(channel, EmailConfig)
    assert channel.ca_file == tmp_path / "relay-ca.pem"
    with pytest.raises(ConfigError, match=r"cfg\.yaml:6: notify\[0\] \(email\): ca_file: .*other\.pem' is not an"):
        parse_notify(load_settings_text(email_text("    ca_file: other.pem\n"), source, environ={}))


def test_ca_file_with_ses_still_says_it_is_only_for_smtp() -> None:
    text = "notify:\n  - type: email\n    transport: ses\n    from: a@example.com\n    to: b@example.com\n"
    assert "cfg.yaml:6: notify[0] (email): ca_file: only for transport: smtp" in error(
        text + "    ca_file: /no/such/ca.pem\n"
    )
