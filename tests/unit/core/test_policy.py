"""Policy files: validation with file:line:key, overrides, allowlists, suppressions, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgwatch.errors import PolicyError
from sgwatch.model import Action, Actor, Direction, GroupInfo, Severity
from sgwatch.policy import evaluate, load_policy
from sgwatch.policy.network import only_ports
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


ENTRY = "allowlist:\n  - cidr: 10.0.0.0/8\n    reason: vpn\n    owner: netops\n"
SUPPRESSION = "suppressions:\n  - finding: WORLD_EGRESS\n    reason: a\n    owner: b\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ENTRY + "    expires: 2027-02-30\n",
         "policy.yaml:5: allowlist[0]: expires: 2027-02-30 is not a real date or time (day is out of range for month)"),
        (SUPPRESSION + "    expires: 2027-13-01\n",
         "policy.yaml:5: suppressions[0]: expires: 2027-13-01 is not a real date or time (month must be in 1..12)"),
        (ENTRY + "    expires: 0000-01-01\n", "policy.yaml:5: allowlist[0]: expires: 0000-01-01 is not a real date"),
        (ENTRY + "    expires: 2027-01-01 25:00:00\n", "policy.yaml:5: allowlist[0]: expires: 2027-01-01 25:00:00 is not"),
        (ENTRY + "    expires: 2027-01-01T10:00:00+99:00\n", "policy.yaml:5: allowlist[0]: expires: 2027-01-01T10:00"),
        (ENTRY + "    expires: !!timestamp soon\n",
         "policy.yaml:5: allowlist[0]: expires: soon is not a real date or time (expected the form 2027-01-31"),
        (ENTRY + '    expires: "2027-02-30"\n',
         "policy.yaml:5: allowlist[0]: expires: expected a date like 2027-01-31, got '2027-02-30' (day is out of range"),
        (ENTRY + '    expires: "soon"\n', "policy.yaml:5: allowlist[0]: expires: expected a date like 2027-01-31, got 'soon'"),
        (ENTRY + "    expires: 20270101\n", "policy.yaml:5: allowlist[0]: expires: expected a date like 2027-01-31, got 20270101"),
        # Any unquoted date-looking value is read as a date by YAML, wherever it stands.
        ("allowlist:\n  - cidr: 10.0.0.0/8\n    reason: 2027-02-30\n    owner: b\n",
         "policy.yaml:3: allowlist[0]: reason: 2027-02-30 is not a real date or time (day is out of range for month);"
         " write a valid one like 2027-01-31, or quote it if it is text"),
        ("severities:\n  2027-02-30: high\n", "policy.yaml:2: severities: 2027-02-30 is not a real date or time"),
        ("version: !!int one\n", "policy.yaml:1: version: 'one' cannot be read as an integer (invalid literal"),
        ("web_ports: [80, !!bool maybe]\n", "policy.yaml:1: web_ports[1]: 'maybe' cannot be read as a boolean"),
    ],
)  # fmt: skip
def test_impossible_values_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    """PyYAML builds dates itself and fails without a line; the policy error still names one."""
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    assert str(info.value).startswith(f"{tmp_path}/{expected}")
    assert "\n" not in str(info.value)


def test_impossible_date_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sgwatch.cli import cli

    path = write(tmp_path, ENTRY + "    expires: 2027-02-30\n")
    result = CliRunner().invoke(cli, ["policy", "check", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"sgwatch: error: {path}:5: allowlist[0]: expires: 2027-02-30 is not a real date or time"
        " (day is out of range for month); write a valid one like 2027-01-31\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("written", "expires"),
    [
        ("2027-01-31", dt.date(2027, 1, 31)),
        ('"2027-01-31"', dt.date(2027, 1, 31)),
        ("2027-01-31 10:00:00", dt.date(2027, 1, 31)),
        ('"2027-01-31T10:00:00"', dt.date(2027, 1, 31)),  # quoted or not, a date and time reads the same
        ("2027-01-31T23:30:00-05:00", dt.date(2027, 2, 1)),  # its day in UTC
        ('"2027-01-31T23:30:00-05:00"', dt.date(2027, 2, 1)),
        ("2027-01-31T10:00:00Z", dt.date(2027, 1, 31)),
    ],
)
def test_expires_takes_dates_and_times(tmp_path: Path, written: str, expires: dt.date) -> None:
    policy = load_policy(write(tmp_path, f"{ENTRY}    expires: {written}\n{SUPPRESSION}    expires: {written}\n"))
    assert (policy.allowlist[0].expires, policy.suppressions[0].expires) == (expires, expires)


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
    unset = load_policy(write(tmp_path, "world: {ipv4_prefix: null, ipv6_prefix: 64}\n"))  # null: the default
    assert (unset.world_ipv4_prefix, unset.world_ipv6_prefix) == (8, 64)
    assert evaluate(change, unset, today=TODAY).severity is Severity.CRITICAL


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


def world_egress():  # type: ignore[no-untyped-def]
    (judgement,), _ = judge_file(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupEgress__world_all_traffic.json")
    return judgement.change


def test_egress_rules_on_a_default_group_break_cis_5_4_too(tmp_path: Path) -> None:
    """The default group should restrict all traffic (CIS 5.4): an egress rule added to it is a finding too."""
    change = world_egress()
    assert change.direction is Direction.EGRESS
    plain = evaluate(change, Policy(), today=TODAY)
    assert plain.finding_ids == ("WORLD_EGRESS",)
    by_name = evaluate(dataclasses.replace(change, group_name="default"), Policy(), today=TODAY)
    enriched = evaluate(change, Policy(), group=GroupInfo(group_id=change.group_id or "", is_default=True), today=TODAY)
    for judged in (by_name, enriched):
        assert judged.finding_ids == ("DEFAULT_GROUP_RULE_ADDED", "WORLD_EGRESS")  # the egress verdict is kept
        assert judged.severity is Severity.HIGH
    private = dataclasses.replace(change, group_name="default", peer="10.0.0.0/8")
    assert evaluate(private, Policy(), today=TODAY).finding_ids == ("DEFAULT_GROUP_RULE_ADDED", "RULE_ADDED")
    modified = dataclasses.replace(change, group_name="default", action=Action.MODIFIED, rule_id="sgr-0e")
    assert "DEFAULT_GROUP_RULE_ADDED" in evaluate(modified, Policy(), today=TODAY).finding_ids
    removed = dataclasses.replace(change, group_name="default", action=Action.REMOVED)
    assert evaluate(removed, Policy(), today=TODAY).finding_ids == ("RULE_REMOVED",)  # closing it is no finding
    # The policy's severities and suppressions apply as for ingress.
    lowered = load_policy(write(tmp_path, "severities:\n  DEFAULT_GROUP_RULE_ADDED: medium\n"))
    assert evaluate(dataclasses.replace(change, group_name="default"), lowered, today=TODAY).severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("ports", "finding_id"),
    [
        ((443, 80), "WORLD_INGRESS"),  # reversed: holds no port, so not "web only"
        ((443, 442), "WORLD_INGRESS"),
        ((80, 80), "WORLD_WEB_INGRESS"),
        ((443, 443), "WORLD_WEB_INGRESS"),
        ((80, 443), "WORLD_ADMIN_PORT_INGRESS"),  # 110, 135, 143 lie between
        ((70000, 70000), "WORLD_INGRESS"),  # no such port (decode keeps ports as recorded)
        ((80, 70000), "WORLD_ADMIN_PORT_INGRESS"),
        ((-1, 80), "WORLD_ADMIN_PORT_INGRESS"),
        ((-5, -5), "WORLD_INGRESS"),
        ((-1, -1), "WORLD_ALL_TRAFFIC_INGRESS"),
    ],
)
def test_port_ranges_as_recorded(ports: tuple[int, int], finding_id: str) -> None:
    change = dataclasses.replace(ssh_world(), from_port=ports[0], to_port=ports[1])
    judged = evaluate(change, Policy(), today=TODAY)
    assert judged.finding_ids == (finding_id,)
    if finding_id == "WORLD_INGRESS":
        assert judged.severity is Severity.HIGH


@given(
    st.sampled_from(["tcp", "udp"]),
    st.integers(-70000, 70000),
    st.integers(-70000, 70000),
    st.sets(st.integers(0, 65535), min_size=1, max_size=5),
)
def test_only_ports_means_a_port_and_each_one_allowed(protocol: str, lo: int, hi: int, allowed: set[int]) -> None:
    """Over any integers the decoder may pass on: some port is in the range, and every one of them is allowed."""
    ports = range(lo, hi + 1)
    expected = lo >= 0 and len(ports) > 0 and all(p in allowed for p in ports[: len(allowed) + 1])
    assert only_ports(protocol, lo, hi, allowed) is expected
    for low in allowed:
        assert only_ports(protocol, low, low, allowed)
