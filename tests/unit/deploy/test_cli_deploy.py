"""The deploy commands through click (no AWS: only paths that stop before any call)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from sgwatch.cli import cli
from sgwatch.deploy.grants import GRANTS
from sgwatch.deploy.template import TemplateOptions, build_template


def test_template_prints_the_built_template() -> None:
    result = CliRunner().invoke(cli, ["template", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == build_template(TemplateOptions())
    result = CliRunner().invoke(cli, ["template", "--remediation", "--cis-alarm", "--existing-trail"])
    assert result.exit_code == 0, result.output
    expected = build_template(TemplateOptions(remediation=True, cis_alarm=True, existing_trail=True))
    assert yaml.safe_load(result.stdout) == expected


def test_template_output_takes_every_grant_parameter_for_your_own_pipeline() -> None:
    result = CliRunner().invoke(cli, ["template", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for name in ("SecretArns", "SecretParameterArns", "SesIdentityArns", "SnsTopicArns", "KmsKeyArns"):
        assert (doc["Parameters"][name]["Type"], doc["Parameters"][name]["Default"]) == ("CommaDelimitedList", "")
    conditional = {
        entry["Fn::If"][1]["Sid"]: entry["Fn::If"]
        for entry in doc["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        if "Fn::If" in entry
    }
    assert conditional["PublishToChannelTopics"][0] == "HasSnsTopicArns"
    assert conditional["PublishToChannelTopics"][1]["Resource"] == {"Ref": "SnsTopicArns"}
    assert conditional["UseCustomerManagedKeys"][0] == "HasKmsKeyArns"
    assert conditional["UseCustomerManagedKeys"][1]["Resource"] == {"Ref": "KmsKeyArns"}
    assert "kms:ViaService" in conditional["UseCustomerManagedKeys"][1]["Condition"]["StringEquals"]


def test_template_org_member() -> None:
    arn = "arn:aws:events:eu-west-1:111122223333:event-bus/default"
    result = CliRunner().invoke(cli, ["template", "--org-member", arn, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["Parameters"]["CentralEventBusArn"]["Default"] == arn


def test_bad_org_member_is_one_error_line_and_exit_2() -> None:
    result = CliRunner().invoke(cli, ["template", "--org-member", "arn:aws:sqs:us-east-1:111122223333:q"])
    assert result.exit_code == 2
    assert result.stderr.startswith("sgwatch: error: --org-member 'arn:aws:sqs:")
    assert result.stderr.count("\n") == 1


def test_deploy_rejects_a_malformed_parameter_before_calling_aws() -> None:
    result = CliRunner().invoke(cli, ["deploy", "--stack-name", "s", "--parameter", "AlertEmail"])
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr


def test_deploy_refuses_an_unknown_parameter_before_building_or_calling_aws(local_only_aws: str) -> None:
    # AWS clients here reach only a closed local port: any call, or a package build, would show in stderr.
    result = CliRunner().invoke(
        cli, ["deploy", "--stack-name", "s", "--parameter", "Foo=bar", "--parameter", "AlertEmail=a@example.com"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("sgwatch: error: unknown stack parameter(s) Foo (this template takes: ")
    assert result.stderr.count("\n") == 1


def test_deploy_help_names_every_grant_parameter_and_what_a_dry_run_does() -> None:
    result = CliRunner().invoke(cli, ["deploy", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    parameter = text[text.index("--parameter KEY=VALUE") : text.index("--remediation")]
    for grant in GRANTS:
        assert grant.parameter in parameter
    manual = [grant.parameter for grant in GRANTS if not grant.derived]
    assert manual == ["KmsKeyArns"]
    assert "(it does not derive KmsKeyArns)" in parameter
    dry_run = text[text.index("--dry-run") :]
    assert "upload the package as a deploy does, creating the artifacts bucket if missing (both are kept)" in dry_run


def test_deploy_validates_the_config_before_calling_aws(tmp_path: Path) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text("enrich: true\nnotfy: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["deploy", "--stack-name", "s", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2" in result.stderr
    assert "unknown key 'notfy'" in result.stderr


@pytest.mark.parametrize("name", ["template", "package", "deploy", "doctor"])
def test_every_command_and_option_has_help(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"{name} {param.opts}: no help text"
