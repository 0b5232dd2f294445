"""Real CloudTrail from public projects (../shared/data): every security-group change is reported right.

Skipped cleanly when the reference data is not beside the checkout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sgwatch.model import Judgement, Outcome
from sgwatch.normalize import SG_EVENT_NAMES
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, read_paths

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "data"
SAMPLES = SHARED / "cloudtrail-samples"
CORPUS = SHARED / "corpus" / "invictus-ir_aws_dataset"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not present")

# file stem -> [(action, outcome, direction, protocol, from, to, peer, severity)], in order
EXPECTED: dict[str, list[tuple[object, ...]]] = {
    "AuthorizeSecurityGroupEgress__elastic-integrations": [
        ("added", "success", "egress", "tcp", 4444, 4444, "73.21.4.36/32", "info")
    ],
    "AuthorizeSecurityGroupEgress__invictus-terraform": [
        ("added", "success", "egress", "-1", None, None, "0.0.0.0/0", "low"),
        ("added", "success", "egress", "-1", None, None, "::/0", "low"),
    ],
    "AuthorizeSecurityGroupEgress__panther-terraform": [
        ("added", "success", "egress", "-1", None, None, "0.0.0.0/0", "low")
    ],
    "AuthorizeSecurityGroupIngress__bu-cfn-sgref": [
        ("added", "success", "ingress", "tcp", 1521, 1521, "sg-000537769a1c2d858", "info")
    ],
    "AuthorizeSecurityGroupIngress__elastic-integrations": [
        ("added", "success", "ingress", "tcp", 22, 22, "203.0.113.0/24", "medium")
    ],
    "AuthorizeSecurityGroupIngress__invictus-stratus": [
        ("added", "success", "ingress", "tcp", 22, 22, "0.0.0.0/0", "critical")
    ],
    "AuthorizeSecurityGroupIngress__invictus-terraform": [
        ("added", "success", "ingress", "tcp", 443, 443, "0.0.0.0/0", "low")
    ],
    "AuthorizeSecurityGroupIngress__panther-console": [
        ("added", "success", "ingress", "tcp", 443, 443, "0.0.0.0/16", "info")
    ],
    "AuthorizeSecurityGroupIngress__panther-gosdk": [
        ("added", "success", "ingress", "tcp", 22, 22, "0.0.0.0/0", "critical")
    ],
    "AuthorizeSecurityGroupIngress__root-console-2021": [
        ("added", "success", "ingress", "tcp", 22, 22, "0.0.0.0/0", "critical"),
        ("added", "success", "ingress", "tcp", 22, 22, "::/0", "critical"),
    ],
    "AuthorizeSecurityGroupIngress__stratus-open22": [
        ("added", "success", "ingress", "tcp", 22, 22, "208.236.235.254/0", "critical")
    ],
    "AuthorizeSecurityGroupIngress__streamalert-ipv6": [
        ("added", "success", "ingress", "-1", None, None, "0.0.0.0/0", "critical"),
        ("added", "success", "ingress", "-1", None, None, "::/0", "critical"),
    ],
    "CreateNetworkInterface__invictus-rds": [],
    "CreateNetworkInterface__invictus-terraform": [],
    "CreateSecurityGroup__invictus-terraform": [("created", "success", None, None, None, None, None, "info")],
    "CreateSecurityGroup__panther-terraform": [("created", "success", None, None, None, None, None, "info")],
    "DeleteSecurityGroup__invictus-terraform": [("deleted", "success", None, None, None, None, None, "low")],
    "ModifyInstanceAttribute__invictus-terraform-noSG": [],
    "RevokeSecurityGroupEgress__invictus-terraform": [
        ("removed", "success", "egress", "-1", None, None, "0.0.0.0/0", "info")
    ],
    "RevokeSecurityGroupEgress__invictus-terraform-error": [
        ("removed", "failure", "egress", "-1", None, None, "::/0", "info")
    ],
    "RevokeSecurityGroupIngress__invictus-stratus": [
        ("removed", "success", "ingress", "tcp", 22, 22, "0.0.0.0/0", "info")
    ],
    "RunInstances__elastic-integrations-defaultSG": [],
    "RunInstances__stratus-unauthorized": [],
}


def judged(paths: list[Path]) -> tuple[list[Judgement], list[Problem]]:
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    for item in judge(read_paths([str(p) for p in paths]), Policy()):
        if isinstance(item, Problem):
            problems.append(item)
        else:
            judgements.append(item)
    return judgements, problems


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else [], ids=lambda p: p.stem)
def test_sample(path: Path) -> None:
    judgements, problems = judged([path])
    assert not problems
    actual = [
        (
            str(j.change.action),
            str(j.change.outcome),
            j.change.direction and str(j.change.direction),
            j.change.protocol,
            j.change.from_port,
            j.change.to_port,
            j.change.peer,
            str(j.severity),
        )
        for j in judgements
    ]
    assert path.stem in EXPECTED, f"new sample {path.stem}: add its expected changes"
    assert actual == EXPECTED[path.stem]


def test_samples_with_rule_ids_keep_them() -> None:
    judgements, _ = judged([SAMPLES / "AuthorizeSecurityGroupIngress__invictus-stratus.json"])
    assert [j.change.rule_id for j in judgements] == ["sgr-0a11552a7d225f5c7"]
    judgements, _ = judged([SAMPLES / "AuthorizeSecurityGroupIngress__root-console-2021.json"])
    assert {"ROOT_ACTOR", "WORLD_ADMIN_PORT_INGRESS"} <= set(judgements[0].finding_ids)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")
def test_every_security_group_change_in_the_corpus_is_reported() -> None:
    files = sorted(CORPUS.rglob("*.json"))
    expected: dict[str, bool] = {}
    total = 0
    for file in files:
        for record in json.loads(file.read_text())["Records"]:
            total += 1
            if record["eventSource"] == "ec2.amazonaws.com" and record["eventName"] in SG_EVENT_NAMES:
                params = record.get("requestParameters") or {}
                if (
                    record["eventName"] in ("ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute")
                    and "groupSet" not in params
                ):
                    continue
                expected[record["eventID"]] = record.get("errorCode") is None
    judgements, problems = judged(files)
    assert total == 2900
    assert not problems
    reported = {j.change.event_id for j in judgements}
    assert reported == set(expected)
    assert sum(expected.values()) == 7  # successful calls
    for j in judgements:
        assert (j.change.outcome is Outcome.SUCCESS) == expected[j.change.event_id]
    critical = [j for j in judgements if str(j.severity) == "critical"]
    assert [(c.change.event_name, c.change.from_port, c.change.peer) for c in critical] == [
        ("AuthorizeSecurityGroupIngress", 22, "0.0.0.0/0")
    ]
