"""``sgwatch template``, ``package``, ``deploy`` and ``doctor``: thin commands over sgwatch.deploy."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sgwatch.deploy.grants import GRANTS
from sgwatch.errors import ConfigError

if TYPE_CHECKING:
    from sgwatch.deploy.health import Check

F = TypeVar("F", bound=Callable[..., Any])


def _template_options(func: F) -> F:
    options = (
        click.option(
            "--remediation",
            is_flag=True,
            help="Allow the function to revoke the rules an event added (ec2:Revoke*/ModifySecurityGroupRules).",
        ),
        click.option(
            "--existing-trail",
            is_flag=True,
            help="Do not create a CloudTrail trail; use the account's existing multi-region trail.",
        ),
        click.option(
            "--cis-alarm",
            is_flag=True,
            help="Add the CIS 4.10 metric filter and alarm on the trail's CloudWatch Logs group.",
        ),
        click.option(
            "--org-member",
            metavar="CENTRAL_BUS_ARN",
            help="Build the member-account template that forwards events to this central event bus.",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _options(remediation: bool, existing_trail: bool, cis_alarm: bool, org_member: str | None) -> Any:
    from sgwatch.deploy.template import TemplateOptions  # noqa: PLC0415

    return TemplateOptions(
        remediation=remediation, existing_trail=existing_trail, cis_alarm=cis_alarm, org_member=org_member
    )


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


_MANUAL_GRANTS = [grant.parameter for grant in GRANTS if not grant.derived]
_GRANTS_HELP = f"the grant lists {_listed([grant.parameter for grant in GRANTS])} take comma-separated ARNs and " + (
    f"override what --config derives (it does not derive {_listed(_MANUAL_GRANTS)})"
    if _MANUAL_GRANTS
    else "override what --config derives"
)


def _echo(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@_template_options
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True, help="Output format."
)
def template(remediation: bool, existing_trail: bool, cis_alarm: bool, org_member: str | None, fmt: str) -> None:
    """Print the CloudFormation template for the sgwatch pipeline (or the member-account forwarder)."""
    from sgwatch.deploy.template import build_template, render_template  # noqa: PLC0415

    doc = build_template(_options(remediation, existing_trail, cis_alarm, org_member))
    click.echo(render_template(doc, fmt), nl=False)


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dist/sgwatch-lambda.zip"),
    show_default=True,
    help="Where to write the Lambda zip.",
)
@click.option(
    "--wheel-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Install the dependencies only from wheels in this folder (offline builds).",
)
def package(out: Path, wheel_dir: Path | None) -> None:
    """Build the Lambda package reproducibly (same inputs give the same sha256)."""
    from sgwatch.deploy.package import build_package  # noqa: PLC0415

    result = build_package(out, wheel_dir=wheel_dir)
    click.echo(f"{result.path}  sha256={result.sha256}  files={result.files}  bytes={result.size}")


def _parameters(pairs: tuple[str, ...], config: Path | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--parameter {pair!r}: expected KEY=VALUE, e.g. --parameter AlertEmail=sec@example.com")
        out[key] = value
    if config is not None:
        from sgwatch.settings import load_settings_text  # noqa: PLC0415

        try:
            text = config.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{config}: cannot read: {exc.strerror or exc}") from exc
        load_settings_text(text, str(config))  # fail here, not in the Lambda
        out["ConfigYaml"] = text
    return out


@click.command()
@click.option("--stack-name", required=True, help="CloudFormation stack name.")
@click.option("--region", help="AWS region (default: the profile's or AWS_REGION).")
@click.option("--delete", is_flag=True, help="Tear the stack down instead of deploying it.")
@click.option("--bucket", help="Existing S3 bucket for the package (default: sgwatch-artifacts-<account>-<region>).")
@click.option(
    "--package",
    "package_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A zip built by `sgwatch package` (default: build one now).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="sgwatch YAML config to store in the SSM parameter (validated before deploying); the secrets its "
    "channels reference and the SES identities its email channels send from are granted to the function.",
)
@click.option(
    "--parameter",
    "parameter_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Stack parameter, repeatable (e.g. AlertEmail=sec@example.com, OrganizationId=o-abc123def4); "
    f"{_GRANTS_HELP}. Unknown names are refused before anything is built or uploaded.",
)
@_template_options
@click.option(
    "--dry-run",
    is_flag=True,
    help="Build (unless --package) and upload the package as a deploy does, creating the artifacts bucket if "
    "missing (both are kept); print the grants and the change set's changes; then delete the change set "
    "(for a new stack, also the empty stack it made) without applying it. No stack resource changes.",
)
def deploy(
    stack_name: str,
    region: str | None,
    delete: bool,
    bucket: str | None,
    package_path: Path | None,
    config: Path | None,
    parameter_pairs: tuple[str, ...],
    remediation: bool,
    existing_trail: bool,
    cis_alarm: bool,
    org_member: str | None,
    dry_run: bool,
) -> None:
    """Upload the package and create or update the stack through a change set, showing progress."""
    from sgwatch.deploy import deployer  # noqa: PLC0415

    if delete:
        deployer.delete(stack_name, progress=_echo, region=region)
        return
    result = deployer.deploy(
        stack_name,
        _options(remediation, existing_trail, cis_alarm, org_member),
        bucket=bucket,
        package_path=package_path,
        parameters=_parameters(parameter_pairs, config),
        dry_run=dry_run,
        progress=_echo,
        region=region,
        config_source=str(config) if config is not None else "ConfigYaml",
    )
    for key in sorted(result.outputs):
        click.echo(f"{key}\t{result.outputs[key]}")


def _print_checks(checks: Sequence[Check]) -> None:
    """A pass/fail table (rich) with the fix for each failed check, on stdout."""
    from rich.console import Console  # noqa: PLC0415 - rich is heavy; only this command prints tables
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="sgwatch doctor", show_lines=False)
    for column in ("check", "result", "detail", "fix"):
        table.add_column(column, overflow="fold")
    styles = {"pass": "green", "fail": "bold red", "skip": "yellow"}
    for check in checks:
        table.add_row(check.name, f"[{styles[check.status]}]{check.status}[/]", check.detail, check.fix)
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(table)


@click.command()
@click.option("--stack-name", help="The sgwatch stack; resource names come from its outputs.")
@click.option("--region", help="AWS region (default: the profile's or AWS_REGION).")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Test the channels of this config file instead of the one in the SSM parameter.",
)
@click.option("--function-name", help="Lambda function name (overrides the stack's).")
@click.option("--rule-name", help="EventBridge rule name (overrides the stack's).")
@click.option("--queue-url", help="Queue URL the rule should target (overrides the stack's).")
@click.option("--dlq-url", help="Dead-letter queue URL (overrides the stack's).")
@click.option("--parameter-name", help="SSM config parameter name (overrides the stack's).")
def doctor(
    stack_name: str | None,
    region: str | None,
    config: Path | None,
    function_name: str | None,
    rule_name: str | None,
    queue_url: str | None,
    dlq_url: str | None,
    parameter_name: str | None,
) -> None:
    """Check the live pipeline (trail, rule, function, its queue's consumer and backlog, DLQ, config, channels;
    the test alert reads env: secrets from the function's environment); exit 1 when a check fails."""
    from sgwatch.deploy.doctor import run_doctor  # noqa: PLC0415

    names = {
        "FunctionName": function_name,
        "RuleName": rule_name,
        "QueueUrl": queue_url,
        "DeadLetterQueueUrl": dlq_url,
        "ConfigParameterName": parameter_name,
    }
    checks = run_doctor(
        stack_name=stack_name,
        region=region,
        names={k: v for k, v in names.items() if v},
        config_path=config,
    )
    _print_checks(checks)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        click.echo(f"sgwatch doctor: {len(failed)} check(s) failed: {', '.join(failed)}", err=True)
        sys.exit(1)
