"""``sgwatch deploy --config`` against moto: the function role is granted exactly the secrets and SES identities
the config's channels use, and nothing when they use none.

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
CONFIG = """\
notify:
  - type: slack
    url: secretsmanager:sgwatch/slack#url
  - type: email
    transport: ses
    from: "sgwatch <alerts@example.com>"
    to: sec@example.com
"""
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:sgwatch/slack-??????"
IDENTITIES = [f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/alerts@example.com", f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"]  # fmt: skip
CONDITIONAL = {"secretsmanager:GetSecretValue", "ses:SendEmail"}


def role_grants(function_name: str) -> dict[str, list[str]]:
    """Action -> the resources the function's role allows it on (statements CloudFormation keeps)."""
    role = boto3.client("lambda").get_function(FunctionName=function_name)["Configuration"]["Role"]
    text = boto3.client("iam").get_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="sgwatch-function")
    document = ast.literal_eval(text["PolicyDocument"])
    grants: dict[str, list[str]] = {}
    for stmt in document["Statement"]:
        if stmt is None:
            continue
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
    config = tmp_path / "sgwatch.yaml"
    config.write_text(CONFIG, encoding="utf-8")

    result = cli(
        "deploy", "--stack-name", "sgw", "--package", str(small_package.path), "--existing-trail",
        "--config", str(config),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"  secretsmanager:GetSecretValue  {SECRET}  <- {config}:2: notify[0] (slack): url" in result.stderr
    for arn in IDENTITIES:
        assert f"  ses:SendEmail                  {arn}  <- {config}:4: notify[1] (email): from" in result.stderr
    assert "  ssm:GetParameter               none (SecretParameterArns empty)" in result.stderr

    function = dict(line.split("\t") for line in result.stdout.splitlines())["FunctionName"]
    grants = role_grants(function)
    assert grants["secretsmanager:GetSecretValue"] == [SECRET]
    assert grants["ses:SendEmail"] == IDENTITIES
    assert grants["ssm:GetParameter"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/sgwatch/config"]
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
    assert again.grants == {"SecretArns": (SECRET,), "SecretParameterArns": (), "SesIdentityArns": tuple(IDENTITIES)}
    assert f"  secretsmanager:GetSecretValue  {SECRET}  <- the stack's value (no --config)" in lines


def test_no_reference_no_grant_and_overrides_win(aws: str, small_package: PackageResult, fast: Timing) -> None:
    lines: list[str] = []
    override = f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/other.example"
    planned = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": CONFIG, "SesIdentityArns": override, "SecretArns": ""},
        dry_run=True, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert planned.status == "DRY_RUN"
    assert planned.grants == {"SecretArns": (), "SecretParameterArns": (), "SesIdentityArns": (override,)}
    assert f"  ses:SendEmail                  {override}  <- --parameter SesIdentityArns" in lines
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert [w.split(" covers")[0] for w in warnings] == [
        "warning: --parameter SecretArns",
        "warning: --parameter SesIdentityArns",
    ]
    assert lines.index(warnings[-1]) < next(i for i, line in enumerate(lines) if "change set" in line)

    plain = "enrich: true\nnotify:\n  - type: console\n"
    created = deploy(
        "sgw", TemplateOptions(existing_trail=True), bucket=None, package_path=small_package.path,
        parameters={"ConfigYaml": plain}, dry_run=False, progress=lines.append, timing=fast,
    )  # fmt: skip
    assert created.status == "CREATE_COMPLETE"
    assert created.grants == {"SecretArns": (), "SecretParameterArns": (), "SesIdentityArns": ()}
    grants = role_grants(created.outputs["FunctionName"])
    assert not CONDITIONAL & set(grants)
    assert grants["ssm:GetParameter"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/sgwatch/config"]
