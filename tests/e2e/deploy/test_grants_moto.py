"""``sgwatch deploy --config`` against moto: the function role is granted exactly the secrets, SES identities and
SNS topics the config's channels use (and the KMS keys ``--parameter KmsKeyArns`` names), nothing when they use
none; the plan printed before the change set says so.

moto keeps an inline role policy as the text of a Python dict, with ``None`` where CloudFormation drops a
statement whose condition is false (``AWS::NoValue``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from sgwatch.deploy.deployer import Timing, deploy
from sgwatch.deploy.grantplan import covers
from sgwatch.deploy.package import PackageResult
from sgwatch.deploy.template import TemplateOptions

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]
ACCOUNT = "123456789012"  # moto's account
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:soc-alerts"  # another region's topic: its ARN is granted as written
CONFIG = f"""\
notify:
  - type: slack
    url: secretsmanager:sgwatch/slack#url
  - type: email
    transport: ses
    from: "sgwatch <alerts@example.com>"
    to: sec@example.com
  - type: sns
    name: soc
    topic_arn: {TOPIC}
  - type: sns
    name: stack
    topic_arn: env:SGWATCH_SNS_TOPIC_ARN
"""
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:sgwatch/slack-??????"
IDENTITIES = [f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/alerts@example.com", f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"]  # fmt: skip
CONDITIONAL = {"secretsmanager:GetSecretValue", "ses:SendEmail", "kms:Decrypt", "kms:GenerateDataKey"}
KMS_VIA = [f"{service}.us-east-1.amazonaws.com" for service in ("secretsmanager", "ssm", "sns")]


def role_statements(function_name: str) -> list[dict[str, Any]]:
    """The statements of the function role's policy that CloudFormation keeps."""
    role = boto3.client("lambda").get_function(FunctionName=function_name)["Configuration"]["Role"]
    text = boto3.client("iam").get_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="sgwatch-function")
    return [stmt for stmt in ast.literal_eval(text["PolicyDocument"])["Statement"] if stmt is not None]


def role_grants(function_name: str) -> dict[str, list[str]]:
    """Action -> the resources the function's role allows it on."""
    grants: dict[str, list[str]] = {}
    for stmt in role_statements(function_name):
        actions = [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]
        resources = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
        for action in actions:
            grants.setdefault(action, []).extend(resources)
    return grants


def test_secret_reference_and_ses_email_are_granted_exactly(
    aws: str, small_package: PackageResult, cli: Callable[..., Any], fast: Timing, tmp_path: Path
) -> None:
    secrets = boto3.client("secretsmanager")
    real = secrets.create_secret(Name="sgwatch/slack", SecretString='{"url": "https://hooks.example/x"}')["ARN"]
    other = secrets.create_secret(Name="sgwatch/slack-extra", SecretString="x")["ARN"]
    key = boto3.client("kms").create_key(Description="sgwatch secrets")["KeyMetadata"]["Arn"]
    config = tmp_path / "sgwatch.yaml"
    config.write_text(CONFIG, encoding="utf-8")

    result = cli(
        "deploy", "--stack-name", "sgw", "--package", str(small_package.path), "--existing-trail",
        "--config", str(config), "--parameter", f"KmsKeyArns={key}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"  secretsmanager:GetSecretValue  {SECRET}  <- {config}:2: notify[0] (slack): url" in result.stderr
    for arn in IDENTITIES:
        assert f"  ses:SendEmail                  {arn}  <- {config}:4: notify[1] (email): from" in result.stderr
    assert "  ssm:GetParameter               none (SecretParameterArns empty)" in result.stderr
    assert f"  sns:Publish                    {TOPIC}  <- {config}:8: notify[2] (soc): topic_arn\n" in result.stderr
    assert f"  kms:Decrypt/GenerateDataKey    {key}  <- --parameter KmsKeyArns\n" in result.stderr
    assert "warning:" not in result.stderr

    outputs = dict(line.split("\t") for line in result.stdout.splitlines())
    grants = role_grants(outputs["FunctionName"])
    assert grants["secretsmanager:GetSecretValue"] == [SECRET]
    assert grants["ses:SendEmail"] == IDENTITIES
    assert grants["ssm:GetParameter"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/sgwatch/config"]
    assert grants["sns:Publish"] == [outputs["TopicArn"], TOPIC]  # the stack's topic, then the channel's own
    (kms,) = [stmt for stmt in role_statements(outputs["FunctionName"]) if stmt["Resource"] == [key]]
    assert kms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": KMS_VIA}}
    # The documented wildcard matches the ARN Secrets Manager gave the secret, and no other secret.
    assert covers(SECRET, real)
    assert not covers(SECRET, other)

    # Without --config, an update keeps the stack's grants (and says so).
    lines: list[str] = []
    again = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={}, dry_run=False, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert again.status == "NO_CHANGES"
    kept = [line for line in lines if line.endswith("<- the stack's value (no --config)")]
    assert kept == [
        f"  secretsmanager:GetSecretValue  {SECRET}  <- the stack's value (no --config)",
        *(f"  ses:SendEmail                  {arn}  <- the stack's value (no --config)" for arn in IDENTITIES),
        f"  sns:Publish                    {TOPIC}  <- the stack's value (no --config)",
    ]
    assert f"  kms:Decrypt/GenerateDataKey    {key}  <- the stack's value (not in the config; change it with " \
        "--parameter KmsKeyArns=)" in lines  # fmt: skip

    # With --config again, a reference removed from the config loses its grant; the key (which no config
    # names) is kept. A dry run: moto fails to execute this update (Fn::GetAtt FunctionLogGroup unresolved).
    lines.clear()
    without_slack = CONFIG.replace("  - type: slack\n    url: secretsmanager:sgwatch/slack#url\n", "")
    updated = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": without_slack}, dry_run=True, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert updated.status == "DRY_RUN"
    assert "  secretsmanager:GetSecretValue  none (SecretArns empty)" in lines
    assert f"  sns:Publish                    {TOPIC}  <- ConfigYaml:6: notify[1] (soc): topic_arn" in lines
    assert any(line.startswith(f"  kms:Decrypt/GenerateDataKey    {key}  <- the stack's value") for line in lines)


def test_no_reference_no_grant_and_overrides_win(aws: str, small_package: PackageResult, fast: Timing) -> None:
    lines: list[str] = []
    override = f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/other.example"
    planned = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": CONFIG, "SesIdentityArns": override, "SecretArns": ""},
        dry_run=True, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert planned.status == "DRY_RUN"
    assert "  secretsmanager:GetSecretValue  none (SecretArns empty)" in lines
    assert f"  ses:SendEmail                  {override}  <- --parameter SesIdentityArns" in lines
    assert f"  sns:Publish                    {TOPIC}  <- ConfigYaml:8: notify[2] (soc): topic_arn" in lines
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert [w.split(" covers")[0] for w in warnings] == [
        "warning: --parameter SecretArns",
        "warning: --parameter SesIdentityArns",
    ]
    assert lines.index(warnings[-1]) < next(i for i, line in enumerate(lines) if "change set" in line)

    plain = "enrich: true\nnotify:\n  - type: console\n"
    lines.clear()
    created = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": plain}, dry_run=False, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert created.status == "CREATE_COMPLETE"
    assert lines[0] == "function role grants for the config's secrets, SES email, SNS topics and KMS keys:"
    assert lines[1:6] == [
        "  secretsmanager:GetSecretValue  none (SecretArns empty)",
        "  ssm:GetParameter               none (SecretParameterArns empty)",
        "  ses:SendEmail                  none (SesIdentityArns empty)",
        "  sns:Publish                    none (SnsTopicArns empty)",
        "  kms:Decrypt/GenerateDataKey    none (KmsKeyArns empty)",
    ]
    grants = role_grants(created.outputs["FunctionName"])
    assert not CONDITIONAL & set(grants)
    assert grants["ssm:GetParameter"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/sgwatch/config"]
    assert grants["sns:Publish"] == [created.outputs["TopicArn"]]
