"""Replays are no-ops in every container: a redelivered event never reverts again, a refused revert is tried
again (and the channel hears when it succeeds), and a revert whose outcome is unknown is not repeated blind.
Through the Lambda handler, against moto EC2 and the stack's DynamoDB ledger table; ``clear_cache`` is a new
container (a cold start)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sgwatch.errors import RemediationError
from sgwatch.lambda_handler import LEDGER_TABLE_ENV, clear_cache, handler

LIVE = "remediate:\n  enabled: true\n  dry_run: false\n"
PRE_EXISTING = [("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 3000, 4000, "0.0.0.0/0")]
WORLD_SSH = ("tcp", 22, 22, "0.0.0.0/0")
REVOKE = "ec2:RevokeSecurityGroupIngress"
MODIFY = "ec2:ModifySecurityGroupRules"


@pytest.fixture
def table(create_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The stack's sent ledger table, shared by every container."""
    name = create_table()
    monkeypatch.setenv(LEDGER_TABLE_ENV, name)
    return name


def told(receiver: Any, event_id: str) -> list[list[tuple[str, str]]]:
    """(status, detail) of the remediations of every alert the channel accepted for ``event_id``."""
    return [
        [(r["status"], r["detail"]) for r in alert["remediations"]]
        for alert in receiver.alerts()
        if alert["event_id"] == event_id
    ]


def _modify_to_the_world(build: Any, sg: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A private 5432 rule (its add event) then modified to 0.0.0.0/0 in EC2 (its modify event)."""
    (rule,) = sg.authorize(5432, "10.1.0.0/16")
    add = build.authorize(sg.group_id, [rule], eventTime="2026-03-01T10:00:00Z")
    world = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "0.0.0.0/0"}
    rule_id = rule["SecurityGroupRuleId"]
    build.client("ec2").modify_security_group_rules(
        GroupId=sg.group_id, SecurityGroupRules=[{"SecurityGroupRuleId": rule_id, "SecurityGroupRule": world}]
    )
    return add, build.modify(sg.group_id, rule_id, {k: str(v) for k, v in world.items()}), rule_id


def test_a_restored_rule_is_not_revoked_when_its_modify_event_comes_again_to_another_container(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, table: str
) -> None:
    sg = group()
    add, modify, rule_id = _modify_to_the_world(build, sg)
    lambda_env(config(LIVE))
    handler(build.eventbridge(add), None)  # container A sees the add, then the modify: it restores
    handler(build.eventbridge(modify), None)
    restored = sorted([*PRE_EXISTING, ("tcp", 5432, 5432, "10.1.0.0/16")])
    assert sg.ingress() == restored
    assert told(receiver, modify["eventID"]) == [[("restored", "restored to tcp/5432 from 10.1.0.0/16")]]

    clear_cache()  # container B, which never saw the add
    calls = aws.count(MODIFY), aws.count(REVOKE)
    handler(build.eventbridge(modify), None)

    assert sg.ingress() == restored
    assert (aws.count(MODIFY), aws.count(REVOKE)) == calls
    assert len(told(receiver, modify["eventID"])) == 1  # nothing new happened: nothing new is told
    facts = build.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={
            ":pk": {"S": f"sgwatch:remediation#remediation:{build.account}:{modify['eventID']}"}
        },
    )["Items"]
    assert sorted(item["rule_key"]["S"] for item in facts) == [f"{rule_id}#attempt:1", f"{rule_id}#done:restored"]


def test_without_a_shared_ledger_the_rule_as_described_now_still_stops_a_second_revert(
    aws: Any,
    build: Any,
    group: Any,
    config: Any,
    lambda_env: Any,
    receiver: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LEDGER_TABLE_ENV, raising=False)  # each container has only its own memory
    sg = group()
    add, modify, _ = _modify_to_the_world(build, sg)
    lambda_env(config(LIVE))
    handler(build.eventbridge(add), None)
    handler(build.eventbridge(modify), None)
    clear_cache()
    revokes = aws.count(REVOKE)
    handler(build.eventbridge(modify), None)  # enrichment describes the rule: it is private again
    assert ("tcp", 5432, 5432, "10.1.0.0/16") in sg.ingress()
    assert aws.count(REVOKE) == revokes
    assert told(receiver, modify["eventID"])[-1] == [
        (
            "skipped",
            "the rule no longer has the definition this event gave it (it is now ingress tcp/5432 from "
            "10.1.0.0/16): left as is",
        )
    ]


def test_a_legacy_revert_is_not_repeated_over_a_deliberate_re_add(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, table: str
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"), with_rule_ids=False)  # no rule ids
    lambda_env(config(LIVE + "  allowlist: ['arn:aws:iam::*:role/NetworkAdmin']\n"))
    event = build.sqs_event(("m-1", json.dumps(build.eventbridge(rec))))
    assert handler(event, None) == {"batchItemFailures": []}
    assert sg.ingress() == sorted(PRE_EXISTING)
    sg.authorize(22, "0.0.0.0/0")  # a network admin (allowlisted) opens it again, on purpose

    clear_cache()  # SQS redelivers the old message to another container
    revokes = aws.count(REVOKE)
    assert handler(event, None) == {"batchItemFailures": []}

    assert WORLD_SSH in sg.ingress()
    assert aws.count(REVOKE) == revokes
    assert told(receiver, rec["eventID"]) == [[("reverted", "revoked")]]


UNAUTHORIZED = (
    "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this"
    " operation.</Message></Error></Errors><RequestID>x</RequestID></Response>"
)


def test_a_refused_revert_is_retried_by_another_container_and_the_channel_hears_it(
    aws: Any,
    build: Any,
    group: Any,
    config: Any,
    lambda_env: Any,
    receiver: Any,
    table: str,
    http_sink: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"), with_rule_ids=False)
    refusing = http_sink()  # an EC2 endpoint that refuses every call
    refusing.default.status, refusing.default.body = 403, UNAUTHORIZED
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", refusing.url)
    lambda_env(config(LIVE + "enrich: false\n"))
    with pytest.raises(RemediationError, match="the event will be retried"):
        handler(build.eventbridge(rec), None)
    assert WORLD_SSH in sg.ingress()

    monkeypatch.delenv("AWS_ENDPOINT_URL_EC2")  # the role is fixed; Lambda retries in another container
    clear_cache()
    assert handler(build.eventbridge(rec), None)["failures"] == []

    assert sg.ingress() == sorted(PRE_EXISTING)
    assert told(receiver, rec["eventID"]) == [
        [
            (
                "failed",
                "RevokeSecurityGroupIngress in eu-west-1 refused: UnauthorizedOperation: You are not authorized to "
                "perform this operation. (the role needs it: deploy with --remediation); nothing was changed",
            )
        ],
        [("reverted", "revoked")],
    ]


@pytest.mark.parametrize("with_rule_ids", [False, True], ids=["by-exact-permission", "by-rule-id"])
def test_a_revert_with_no_known_outcome_is_repeated_only_when_repeating_is_harmless(
    with_rule_ids: bool,
    aws: Any,
    build: Any,
    group: Any,
    config: Any,
    lambda_env: Any,
    receiver: Any,
    table: str,
    free_port: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"), with_rule_ids=with_rule_ids)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", f"http://127.0.0.1:{free_port()}")  # EC2 does not answer
    lambda_env(config(LIVE + "enrich: false\n"))
    with pytest.raises(RemediationError):
        handler(build.eventbridge(rec), None)
    ((status, detail),) = told(receiver, rec["eventID"])[0]
    assert status == "failed"
    assert detail.startswith("RevokeSecurityGroupIngress in eu-west-1: no answer (")
    assert detail.endswith("whether it was carried out is unknown")

    monkeypatch.delenv("AWS_ENDPOINT_URL_EC2")
    clear_cache()
    revokes = aws.count(REVOKE)
    retried = build.eventbridge(rec)
    if with_rule_ids:  # revoking a rule id again is harmless: done
        assert handler(retried, None)["failures"] == []
        assert sg.ingress() == sorted(PRE_EXISTING)
        assert told(receiver, rec["eventID"])[-1] == [("reverted", "revoked")]
        return
    with pytest.raises(RemediationError, match="ended without a known outcome"):
        handler(retried, None)  # it may have been revoked, and the rule added again on purpose since
    assert aws.count(REVOKE) == revokes
    assert WORLD_SSH in sg.ingress()
