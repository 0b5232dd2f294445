"""Build sgwatch's CloudFormation template (pure: no AWS calls) and render it as YAML or JSON.

The template is a plain dict; intrinsic functions use their mapping forms (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``) so the YAML needs no tags. The same options always give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from sgwatch.deploy import alarms, grants, org, pipeline, trail
from sgwatch.deploy.cfn import Fragment, Json, merge, ref
from sgwatch.errors import DeployError

Format = Literal["yaml", "json"]
FORMATS: tuple[str, ...] = ("yaml", "json")


class _NoAliasDumper(yaml.SafeDumper):
    """Safe YAML without anchors/aliases (CloudFormation rejects them; the builder shares small dicts)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateOptions:
    """What the stack includes. ``org_member`` (the central bus ARN) selects the member-account template."""

    remediation: bool = False
    existing_trail: bool = False
    cis_alarm: bool = False
    org_member: str | None = None

    def describe(self) -> str:
        """The options as the CLI flags that select them (for descriptions and messages)."""
        flags = [
            flag
            for flag, on in (
                ("--remediation", self.remediation),
                ("--existing-trail", self.existing_trail),
                ("--cis-alarm", self.cis_alarm),
            )
            if on
        ]
        if self.org_member:
            flags.append("--org-member")
        return " ".join(flags) or "defaults"


def _central(options: TemplateOptions) -> Json:
    fragments: list[Fragment] = [pipeline.pipeline_fragment(remediation=options.remediation)]
    fragments.append(grants.grants_fragment())
    fragments.append(alarms.topic_fragment())
    fragments.append(alarms.health_alarms_fragment())
    if not options.existing_trail:
        fragments.append(trail.trail_fragment(cis_alarm=options.cis_alarm))
    if options.cis_alarm:
        if options.existing_trail:
            fragments.append(trail.existing_trail_log_group_fragment())
            fragments.append(alarms.cis_alarm_fragment(ref("TrailLogGroupName")))
        else:
            fragments.append(alarms.cis_alarm_fragment(ref("TrailLogGroup")))
    fragments.append(org.bus_policy_fragment())
    description = (
        "sgwatch: alert on every security-group change recorded by CloudTrail "
        f"(EventBridge -> SQS -> Lambda -> SNS/Slack/...; options: {options.describe()})"
    )
    return merge(description, *fragments)


def _member(options: TemplateOptions, central_bus_arn: str) -> Json:
    if options.remediation or options.cis_alarm:
        raise DeployError(
            "--org-member builds the member-account forwarder; --remediation and --cis-alarm belong to the "
            "central stack: build that one without --org-member"
        )
    fragments = [org.forwarder_fragment(central_bus_arn)]
    if not options.existing_trail:
        fragments.append(trail.trail_fragment(cis_alarm=False))
    description = (
        "sgwatch member account: forward security-group changes to the central sgwatch event bus "
        f"(options: {options.describe()})"
    )
    return merge(description, *fragments)


def build_template(options: TemplateOptions) -> dict[str, Any]:
    """The CloudFormation template for ``options`` (central stack, or member forwarder with ``org_member``)."""
    if options.org_member is not None:
        return _member(options, options.org_member)
    return _central(options)


def render_template(doc: dict[str, Any], fmt: str) -> str:
    """The template as YAML (plain mappings, no tags) or indented JSON; keys keep the builder's order."""
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        text: str = yaml.dump(
            doc,
            Dumper=_NoAliasDumper,
            sort_keys=False,
            default_flow_style=False,
            width=4096,
            allow_unicode=True,
        )
        return text
    raise DeployError(f"unknown template format {fmt!r} (expected one of: {', '.join(FORMATS)})")
