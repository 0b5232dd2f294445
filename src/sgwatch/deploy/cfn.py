"""CloudFormation intrinsic functions as plain mappings (``{"Ref": ...}``), so PyYAML's safe_dump can write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

NO_VALUE: Json = {"Ref": "AWS::NoValue"}


def ref(name: str) -> Json:
    """``{"Ref": name}``."""
    return {"Ref": name}


def get_att(resource: str, attribute: str) -> Json:
    """``{"Fn::GetAtt": [resource, attribute]}``."""
    return {"Fn::GetAtt": [resource, attribute]}


def sub(text: str) -> Json:
    """``{"Fn::Sub": text}``."""
    return {"Fn::Sub": text}


def stack_arn(service: str, resource: str) -> Json:
    """The ARN of ``resource`` (``Fn::Sub`` text) of ``service`` in the stack's partition, region and account."""
    return sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def if_(condition: str, when_true: Any, when_false: Any) -> Json:
    """``{"Fn::If": [condition, when_true, when_false]}``."""
    return {"Fn::If": [condition, when_true, when_false]}


def not_empty(parameter: str, *, empty: str = "") -> Json:
    """A condition that holds when the parameter is not its empty value (``""``, or e.g. ``"0"`` for a number)."""
    return {"Fn::Not": [{"Fn::Equals": [ref(parameter), empty]}]}


def statement(
    sid: str,
    actions: list[str],
    resources: Any,
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: Json | None = None,
) -> Json:
    """One IAM policy statement with the keys in the usual reading order."""
    out: Json = {"Sid": sid, "Effect": effect}
    if principal is not None:
        out["Principal"] = principal
    out["Action"] = actions[0] if len(actions) == 1 else actions
    if resources is not None:
        out["Resource"] = resources
    if condition is not None:
        out["Condition"] = condition
    return out


def policy_document(*statements: Json) -> Json:
    """An IAM policy document (version 2012-10-17)."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_principal(service: str) -> Json:
    """``{"Service": "<service>.amazonaws.com"}``."""
    return {"Service": f"{service}.amazonaws.com"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """Part of a template, from one concern; ``merge`` joins fragments in order into one template."""

    parameters: Json = field(default_factory=dict)
    conditions: Json = field(default_factory=dict)
    resources: Json = field(default_factory=dict)
    outputs: Json = field(default_factory=dict)


def merge(description: str, *fragments: Fragment) -> Json:
    """A template document with the sections in the usual order; empty sections are left out.

    A logical id defined by two fragments is a bug in the builder, so it raises ValueError.
    """
    doc: Json = {"AWSTemplateFormatVersion": "2010-09-09", "Description": description}
    for section in ("parameters", "conditions", "resources", "outputs"):
        combined: Json = {}
        for fragment in fragments:
            part: Json = getattr(fragment, section)
            for key, value in part.items():
                if key in combined:
                    raise ValueError(f"template {section}: {key!r} defined twice")
                combined[key] = value
        if combined:
            doc[section.capitalize()] = combined
    return doc


def output(description: str, value: Any) -> Json:
    """One entry of the Outputs section."""
    return {"Description": description, "Value": value}
