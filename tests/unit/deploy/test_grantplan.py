"""The optional grants a config needs: secrets its channels reference, SES identities its email channels use,
SNS topics its sns channels publish to; and the KMS keys, which only ``--parameter`` (or the stack) sets.

Each config in tests/unit/deploy/configs/ is a golden case (tests/golden/deploy/grants_<name>.json): the needs
found, the parameter values derived, and the plan lines ``sgwatch deploy`` prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sgwatch.cli import cli
from sgwatch.deploy.grantplan import (
    GrantPlan,
    Need,
    config_needs,
    covers,
    derive_grants,
    need_arns,
    plan_grants,
)
from sgwatch.errors import ConfigError, DeployError

CONFIGS = Path(__file__).with_name("configs")
ACCOUNT = "123456789012"
AT = {"partition": "aws", "region": "us-east-1", "account": ACCOUNT}
DERIVED = ("SecretArns", "SecretParameterArns", "SesIdentityArns", "SnsTopicArns")  # from the notify section
KMS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:sec-alerts"


def arns(plan: GrantPlan, parameter: str) -> tuple[str, ...]:
    return tuple(granted.arn for granted in plan.grants[parameter])


def needs_of(text: str) -> tuple[Need, ...]:
    return config_needs(text, "sgwatch.yaml")


def one_channel(line: str, kind: str = "slack", key: str = "url") -> str:
    return f"notify:\n  - type: {kind}\n    {key}: {line}\n"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_grants(path: Path, golden_json: Callable[[str, Any], None]) -> None:
    needs = config_needs(path.read_text(encoding="utf-8"), path.name)
    plan = plan_grants(derive_grants(needs, **AT), {}, {})
    golden_json(
        f"grants_{path.stem}.json",
        {
            "needs": [dataclasses.asdict(need) for need in needs],
            "parameters": dict(plan.parameters),
            "plan": list(plan.lines()),
        },
    )


def test_every_grant_parameter_is_set_from_a_config_so_removed_references_lose_their_grant() -> None:
    plan = plan_grants(derive_grants(needs_of("enrich: true\n"), **AT), {}, {"SecretArns": "arn:aws:x:::y"})
    assert dict(plan.parameters) == dict.fromkeys(DERIVED, "")
    assert plan.lines()[1:] == (
        "  secretsmanager:GetSecretValue  none (SecretArns empty)",
        "  ssm:GetParameter               none (SecretParameterArns empty)",
        "  ses:SendEmail                  none (SesIdentityArns empty)",
        "  sns:Publish                    none (SnsTopicArns empty)",
        "  kms:Decrypt/GenerateDataKey    none (KmsKeyArns empty)",
    )


@pytest.mark.parametrize(
    ("reference", "arn"),
    [
        # A name: the documented wildcard for the six random characters Secrets Manager appends.
        ("secretsmanager:prod/slack", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/slack-??????"),
        ("secretsmanager:prod/slack#url", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/slack-??????"),
        ("secretsmanager:my-secret", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:my-secret-??????"),
        # A complete ARN as it is (any region and account), a partial one completed as Secrets Manager reads it.
        (
            "secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/slack-Ab12Cd#url",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/slack-Ab12Cd",
        ),
        (
            f"secretsmanager:arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/slack",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/slack-??????",
        ),
        ("ssm:/team/slack", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/team/slack"),
        ("ssm:/team/slack:7", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/team/slack"),
        ("ssm:slack-url", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/slack-url"),
        (
            "ssm:arn:aws:ssm:eu-west-1:111122223333:parameter/team/slack:live",
            "arn:aws:ssm:eu-west-1:111122223333:parameter/team/slack",
        ),
    ],
)
def test_secret_reference_arns(reference: str, arn: str) -> None:
    (need,) = needs_of(one_channel(reference))
    assert need.where == "sgwatch.yaml:2: notify[0] (slack): url"
    assert need_arns(need, **AT) == (arn,)


def test_names_take_the_deploys_partition_region_and_account() -> None:
    (need,) = needs_of(one_channel("secretsmanager:prod/slack"))
    assert need_arns(need, partition="aws-cn", region="cn-north-1", account="210987654321") == (
        "arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:prod/slack-??????",
    )


@pytest.mark.parametrize(
    ("email", "arns"),
    [
        (
            'transport: ses\n    from: "sgwatch <alerts@mail.example.com>"\n    to: sec@example.com\n    region: eu-west-1',
            tuple(
                f"arn:aws:ses:eu-west-1:{ACCOUNT}:identity/{identity}"
                for identity in ("alerts@mail.example.com", "mail.example.com", "example.com")
            ),
        ),
        (
            "transport: ses\n    from: alerts@example.com\n    to: sec@example.com",
            (f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/alerts@example.com", f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"),
        ),
    ],
)  # fmt: skip
def test_ses_sender_identities(email: str, arns: tuple[str, ...]) -> None:
    (need,) = needs_of(f"notify:\n  - type: email\n    {email}\n")
    assert need.service == "ses"
    assert need_arns(need, **AT) == arns


def test_smtp_email_without_secret_references_needs_nothing() -> None:
    smtp = "notify:\n  - type: email\n    from: a@example.com\n    to: b@example.com\n    host: smtp.example.com\n"
    assert needs_of(smtp) == ()
    assert needs_of(smtp + "    username: env:AWS_LAMBDA_FUNCTION_NAME\n    password: hunter2-inline\n") == ()


@pytest.mark.parametrize("variable", ["SMTP_USER", "SGWATCH_WEBHOOK_SECRET"])
def test_a_variable_the_function_does_not_have_stops_the_deploy(variable: str) -> None:
    """The stack sets only its own variables on the function: that channel could never send."""
    with pytest.raises(ConfigError) as caught:
        needs_of(one_channel(f"env:{variable}", kind="webhook", key="secret") + "    url: https://x.example/h\n")
    assert str(caught.value).startswith(f"sgwatch.yaml:2: notify[0] (webhook): secret: env:{variable}: the deployed")
    assert "SGWATCH_CONFIG, SGWATCH_SNS_TOPIC_ARN, SGWATCH_LEDGER_TABLE" in str(caught.value)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("secretsmanager:arn:aws:ssm:us-east-1:123456789012:parameter/x", "not a secretsmanager ARN"),
        ("secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:x", "not a secretsmanager ARN"),
        ("ssm:arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "not a ssm ARN"),
    ],
)
def test_a_reference_holding_the_wrong_kind_of_arn_is_a_config_error(reference: str, message: str) -> None:
    # Raised while the config loads (SecretRef.parse), so the line is the key's, not the channel's.
    with pytest.raises(ConfigError, match=rf"^sgwatch\.yaml:3: notify\[0\] \(slack\): url: .*{message}; give arn:"):
        needs_of(one_channel(reference))


def test_the_notify_parser_reports_config_mistakes() -> None:
    with pytest.raises(ConfigError, match=r"^sgwatch\.yaml:3: notify\[0\] \(slack\): unknown key 'ur'"):
        needs_of("notify:\n  - type: slack\n    ur: secretsmanager:x\n")


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("arn:aws:secretsmanager:r:1:secret:a/b-??????", "arn:aws:secretsmanager:r:1:secret:a/b-Xy12Zw", True),
        ("arn:aws:secretsmanager:r:1:secret:a/b-??????", "arn:aws:secretsmanager:r:1:secret:a/b-c-Xy12Zw", False),
        ("arn:aws:secretsmanager:r:1:secret:a/b-??????", "arn:aws:secretsmanager:r:1:secret:a/b-Xy12Z", False),
        ("arn:aws:secretsmanager:*:1:secret:a/*", "arn:aws:secretsmanager:r:1:secret:a/b-Xy12Zw", True),
        ("arn:aws:ses:r:1:identity/a.b", "arn:aws:ses:r:1:identity/aXb", False),
    ],
)
def test_covers_uses_iam_wildcards(pattern: str, arn: str, expected: bool) -> None:
    assert covers(pattern, arn) is expected


def ses_and_secret() -> str:
    return (
        "notify:\n  - type: slack\n    url: secretsmanager:prod/slack\n"
        "  - type: email\n    transport: ses\n    from: alerts@example.com\n    to: sec@example.com\n"
    )


def test_parameter_overrides_win_and_uncovered_needs_are_warned_about() -> None:
    derived = derive_grants(needs_of(ses_and_secret()), **AT)
    given = {
        "SecretArns": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/*",
        "SesIdentityArns": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/other.example",
    }
    plan = plan_grants(derived, given, {})
    assert dict(plan.parameters) == {"SecretParameterArns": "", "SnsTopicArns": ""}  # given ones go as given
    assert arns(plan, "SecretArns") == (given["SecretArns"],)
    assert arns(plan, "SesIdentityArns") == (given["SesIdentityArns"],)
    (warning,) = plan.warnings
    assert warning == (
        f"--parameter SesIdentityArns covers none of arn:aws:ses:us-east-1:{ACCOUNT}:identity/alerts@example.com, "
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com, needed by sgwatch.yaml:4: notify[1] (email): from "
        "alerts@example.com: that channel will fail with AccessDenied"
    )
    assert plan.lines()[-1] == f"warning: {warning}"
    assert (
        f"  ses:SendEmail                  {given['SesIdentityArns']}  <- --parameter SesIdentityArns" in plan.lines()
    )


def test_one_verified_identity_of_the_sender_is_enough() -> None:
    derived = derive_grants(needs_of(ses_and_secret()), **AT)
    plan = plan_grants(derived, {"SesIdentityArns": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"}, {})
    assert plan.warnings == ()


def test_an_empty_override_grants_nothing() -> None:
    plan = plan_grants(derive_grants(needs_of(ses_and_secret()), **AT), {"SecretArns": ""}, {})
    assert arns(plan, "SecretArns") == ()
    assert [w.split(" covers")[0] for w in plan.warnings] == ["--parameter SecretArns"]


def test_an_override_that_is_not_an_arn_is_a_deploy_error() -> None:
    with pytest.raises(
        DeployError, match=r"^--parameter SecretArns: 'prod/slack' is not an ARN \(expected e\.g\. arn:"
    ):
        plan_grants(None, {"SecretArns": "arn:aws:secretsmanager:us-east-1:1:secret:a, prod/slack"}, {})


def test_without_a_config_an_update_keeps_the_stacks_grants_and_a_create_has_none() -> None:
    previous = {
        "SecretArns": "arn:aws:secretsmanager:us-east-1:1:secret:a-??????, arn:aws:secretsmanager:us-east-1:1:secret:b"
    }
    kept = plan_grants(None, {}, previous)
    assert dict(kept.parameters) == {}  # the stack keeps its previous values
    assert arns(kept, "SecretArns") == (
        "arn:aws:secretsmanager:us-east-1:1:secret:a-??????",
        "arn:aws:secretsmanager:us-east-1:1:secret:b",
    )
    assert "<- the stack's value (no --config)" in kept.lines()[1]
    assert plan_grants(None, {}, {}).grants == dict.fromkeys((*DERIVED, "KmsKeyArns"), ())


def sns_channels(*topics: str) -> str:
    """One sns channel per topic, named sns0, sns1, ... (each channel starts on line 2 + 3 * its index)."""
    return "notify:\n" + "".join(
        f"  - type: sns\n    name: sns{index}\n    topic_arn: {topic}\n" for index, topic in enumerate(topics)
    )


def test_sns_topics_are_granted_as_written_and_the_stacks_own_topic_is_left_out() -> None:
    needs = needs_of(sns_channels(TOPIC, "env:SGWATCH_SNS_TOPIC_ARN", TOPIC))
    assert [(need.service, need.name, need.where) for need in needs] == [
        ("sns", TOPIC, "sgwatch.yaml:2: notify[0] (sns0): topic_arn"),
        ("sns", TOPIC, "sgwatch.yaml:8: notify[2] (sns2): topic_arn"),
    ]
    assert need_arns(needs[0], partition="aws-cn", region="cn-north-1", account="210987654321") == (TOPIC,)
    plan = plan_grants(derive_grants(needs, **AT), {}, {})
    assert plan.parameters["SnsTopicArns"] == TOPIC
    where = "sgwatch.yaml:2: notify[0] (sns0): topic_arn; sgwatch.yaml:8: notify[2] (sns2): topic_arn"
    assert f"  sns:Publish                    {TOPIC}  <- {where}" in plan.lines()
    assert plan.warnings == ()


def test_a_topic_read_from_a_reference_cannot_be_derived_and_is_warned_about() -> None:
    needs = needs_of(sns_channels("ssm:/team/topic"))
    # The function reads the reference (ssm:GetParameter); the topic it holds is known only at send time.
    assert [(need.service, need.name) for need in needs] == [("ssm", "/team/topic"), ("sns", "ssm:/team/topic")]
    derived = derive_grants(needs, **AT)
    plan = plan_grants(derived, {}, {})
    assert plan.parameters["SnsTopicArns"] == ""
    assert plan.parameters["SecretParameterArns"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/team/topic"
    (warning,) = plan.warnings
    assert warning == (
        "sgwatch.yaml:2: notify[0] (sns0): topic_arn: the topic is read from ssm:/team/topic at send time, so "
        "deploy cannot grant it: pass its ARN with --parameter SnsTopicArns=... (with the other topics' ARNs), "
        "or that channel will fail with AccessDenied"
    )
    assert plan.lines()[-1] == f"warning: {warning}"
    assert plan_grants(derived, {"SnsTopicArns": TOPIC}, {}).warnings == ()
    assert plan_grants(derived, {"SnsTopicArns": ""}, {}).warnings == (warning,)


def test_an_sns_override_that_misses_a_channels_topic_is_warned_about() -> None:
    derived = derive_grants(needs_of(sns_channels(TOPIC)), **AT)
    assert plan_grants(derived, {"SnsTopicArns": f"arn:aws:sns:*:{ACCOUNT}:sec-*"}, {}).warnings == ()
    missed = plan_grants(derived, {"SnsTopicArns": f"arn:aws:sns:eu-west-1:{ACCOUNT}:other"}, {})
    assert missed.warnings == (
        f"--parameter SnsTopicArns covers none of {TOPIC}, needed by sgwatch.yaml:2: notify[0] (sns0): topic_arn: "
        "that channel will fail with AccessDenied",
    )
    assert f"  sns:Publish                    arn:aws:sns:eu-west-1:{ACCOUNT}:other  <- --parameter SnsTopicArns" in (
        missed.lines()
    )


def test_kms_keys_come_from_the_parameter_or_else_the_stack_even_with_a_config() -> None:
    derived = derive_grants(needs_of(ses_and_secret()), **AT)
    kept = plan_grants(derived, {}, {"KmsKeyArns": KMS_KEY})
    assert "KmsKeyArns" not in kept.parameters  # the stack keeps its value (UsePreviousValue)
    assert arns(kept, "KmsKeyArns") == (KMS_KEY,)
    assert (
        f"  kms:Decrypt/GenerateDataKey    {KMS_KEY}  <- the stack's value (not in the config; change it with "
        "--parameter KmsKeyArns=)"
    ) in kept.lines()
    given = plan_grants(derived, {"KmsKeyArns": KMS_KEY}, {"KmsKeyArns": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/old"})
    assert arns(given, "KmsKeyArns") == (KMS_KEY,)
    assert f"  kms:Decrypt/GenerateDataKey    {KMS_KEY}  <- --parameter KmsKeyArns" in given.lines()
    assert given.warnings == ()
    assert arns(plan_grants(derived, {"KmsKeyArns": ""}, {"KmsKeyArns": KMS_KEY}), "KmsKeyArns") == ()
    assert arns(plan_grants(derived, {}, {}), "KmsKeyArns") == ()
    assert arns(plan_grants(None, {"KmsKeyArns": f"arn:aws:kms:*:{ACCOUNT}:key/*"}, {}), "KmsKeyArns") == (
        f"arn:aws:kms:*:{ACCOUNT}:key/*",
    )


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("KmsKeyArns", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/sgwatch", "does not name a key (IAM matches the key's"),
        ("KmsKeyArns", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:x", "is not a kms ARN (expected e.g. arn:aws:kms:"),
        ("SnsTopicArns", f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue", "is not a sns ARN (expected e.g. arn:aws:sns:"),
        ("SecretArns", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x", "is not a secretsmanager ARN (expected e.g."),
    ],
)  # fmt: skip
def test_an_override_naming_another_service_or_a_key_alias_is_a_deploy_error(
    parameter: str, value: str, message: str
) -> None:
    with pytest.raises(DeployError) as caught:
        plan_grants(None, {parameter: value}, {})
    assert str(caught.value).startswith(f"--parameter {parameter}: {value!r} {message}")


@pytest.mark.usefixtures("local_only_aws")
def test_deploy_rejects_a_wrong_reference_before_calling_aws(tmp_path: Path) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text(one_channel("secretsmanager:arn:aws:ssm:us-east-1:123456789012:parameter/x"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["deploy", "--stack-name", "s", "--config", str(config), "--dry-run"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"sgwatch: error: {config}:3: notify[0] (slack): url: secretsmanager:arn:aws:ssm:")
    assert result.stderr.count("\n") == 1
