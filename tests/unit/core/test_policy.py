"""Policy files: validation with file:line:key, overrides, allowlists, suppressions, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from sgwatch.errors import PolicyError
from sgwatch.model import Actor, Severity
from sgwatch.policy import evaluate, load_policy
from sgwatch.policy.schema import Policy

from .conftest import FIXTURES, TODAY, judge_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prots: [22]\n", "policy.yaml:1: policy: unknown key 'prots' (expected: version"),
        ("severities:\n  WORLD_WEB: high\n", "policy.yaml:2: severities: unknown finding id 'WORLD_WEB'"),
        (
            "severities:\n  WORLD_WEB_INGRESS: urgent\n",
            "policy.yaml:2: severities: WORLD_WEB_INGRESS: unknown severity 'urgent'",
        ),
        ("admin_ports: [22, 70000]\n", "policy.yaml:1: admin_ports: 70000 is not a port number"),
        ("allowlist:\n  - cidr: 10.0.0.0/8\n    reason: vpn\n", "policy.yaml:2: allowlist[0]: 'owner' is required"),
        (
            "allowlist:\n  - cidr: 10.0.0.0/8\n    group: sg-1\n    reason: a\n    owner: b\n",
            "policy.yaml:2: allowlist[0]: give exactly one of",
        ),
        (
            "allowlist:\n  - cidr: nope\n    reason: a\n    owner: b\n",
            "policy.yaml:2: allowlist[0]: cidr: 'nope' is not a CIDR",
        ),
        (
            "allowlist:\n  - group: sg-1\n    reason: a\n    owner: b\n    expires: soon\n",
            "policy.yaml:5: allowlist[0]: expires",
        ),
        (
            "suppressions:\n  - finding: NOPE\n    reason: a\n    owner: b\n",
            "policy.yaml:2: suppressions[0]: unknown finding id 'NOPE'",
        ),
        ("world:\n  ipv4_prefix: 40\n", "policy.yaml:2: world: ipv4_prefix: expected a prefix length 0-32"),
        ("version: 1\nversion: 2\n", "policy.yaml:2: invalid YAML"),
        ("a: [\n", "policy.yaml:2: invalid YAML"),
    ],
)
def test_invalid_policy_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path) + "/")
    assert expected in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def ssh_world():  # type: ignore[no-untyped-def]
    (judgement,), _ = judge_file(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json")
    return judgement.change


def test_severity_override_and_admin_ports(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "severities:\n  WORLD_INGRESS: medium\nadmin_ports: [3389]\n"))
    judgement = evaluate(ssh_world(), policy, today=TODAY)
    assert judgement.finding_ids == ("WORLD_INGRESS",)
    assert judgement.severity is Severity.MEDIUM


def test_world_threshold_is_configurable(tmp_path: Path) -> None:
    change = dataclasses.replace(ssh_world(), peer="0.0.0.0/1")
    assert evaluate(change, Policy(), today=TODAY).severity is Severity.CRITICAL
    strict = load_policy(write(tmp_path, "world:\n  ipv4_prefix: 0\n"))
    assert evaluate(change, strict, today=TODAY).finding_ids == ("PUBLIC_RANGE_ADMIN_PORT_INGRESS",)


def test_allowlists_match_cidr_principal_group_and_expire(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            "allowlist:\n"
            "  - cidr: 203.0.113.0/24\n    reason: office\n    owner: netops\n"
            "  - principal: 'arn:aws:sts::*:assumed-role/terraform-*/*'\n    reason: pipeline\n    owner: platform\n"
            "  - group: sg-0bastion00000000\n    reason: bastion\n    owner: secops\n    expires: 2026-01-01\n",
        )
    )
    base = ssh_world()
    office = evaluate(dataclasses.replace(base, peer="203.0.113.8/29"), policy, today=TODAY)
    assert office.severity is Severity.INFO
    assert office.allowed_by == "cidr 203.0.113.0/24: office (netops)"
    assert office.finding_ids == ("PUBLIC_HOST_ADMIN_PORT_INGRESS",)  # a narrow public range; kept for the record
    wider = evaluate(dataclasses.replace(base, peer="203.0.112.0/23"), policy, today=TODAY)
    assert wider.allowed_by is None
    actor = Actor(arn="arn:aws:sts::111122223333:assumed-role/terraform-ci/run-42", type="AssumedRole")
    assert evaluate(dataclasses.replace(base, actor=actor), policy, today=TODAY).allowed_by.startswith("principal")  # type: ignore[union-attr]
    bastion = dataclasses.replace(base, group_id="sg-0bastion00000000")
    assert evaluate(bastion, policy, today=TODAY).severity is Severity.CRITICAL  # expired on 2026-01-01
    assert evaluate(bastion, policy, today=dt.date(2025, 12, 31)).severity is Severity.INFO
    assert policy.expired_entries(TODAY) == [
        f"{tmp_path}/policy.yaml:8: allowlist group 'sg-0bastion00000000' expired on 2026-01-01"
    ]


def test_suppression_scoped_to_groups(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            "suppressions:\n  - finding: WORLD_ADMIN_PORT_INGRESS\n    groups: [sg-0a1b2c3d4e5f60718]\n    reason: lab\n    owner: me\n",
        )
    )
    base = ssh_world()
    judged = evaluate(base, policy, today=TODAY)
    assert judged.findings == ()
    assert judged.severity is Severity.INFO
    assert judged.suppressed
    other = evaluate(dataclasses.replace(base, group_id="sg-0other"), policy, today=TODAY)
    assert other.severity is Severity.CRITICAL
    assert not other.suppressed


def test_root_is_at_least_high_even_for_private_ranges() -> None:
    (judgement,), _ = judge_file(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__root_private_range.json")
    assert judgement.severity is Severity.HIGH
    assert "ROOT_ACTOR" in judgement.finding_ids


def test_example_policy_in_docs_is_valid(tmp_path: Path) -> None:
    from sgwatch.policy import schema

    example = schema.__doc__.split("Example::", 1)[1]  # type: ignore[union-attr]
    text = "\n".join(line[4:] for line in example.splitlines())
    policy = load_policy(write(tmp_path, text))
    assert 8443 in policy.admin_ports
    assert len(policy.allowlist) == 3
    assert len(policy.suppressions) == 1
