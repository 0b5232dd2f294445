"""Auto-revert against moto EC2, through the Lambda handler: exactly the added rule, idempotent, safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sgwatch.lambda_handler import clear_cache, handler

LIVE = "remediate:\n  enabled: true\n  dry_run: false\n"
PRE_EXISTING = [("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 3000, 4000, "0.0.0.0/0")]


@pytest.mark.parametrize("with_rule_ids", [True, False], ids=["by-rule-id", "by-exact-permission"])
def test_revokes_exactly_the_rule_the_event_added(
    with_rule_ids: bool, aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    added = sg.authorize(22, "0.0.0.0/0")
    assert sg.ingress() == sorted([*PRE_EXISTING, ("tcp", 22, 22, "0.0.0.0/0")])
    rec = build.authorize(sg.group_id, added, with_rule_ids=with_rule_ids)
    lambda_env(config(LIVE))

    handler(build.eventbridge(rec), None)

    assert sg.ingress() == sorted(PRE_EXISTING)  # the world-open 3000-4000 and the private ssh rule survive
    alert = receiver.alert(rec["eventID"])
    (remediation,) = alert["remediations"]
    assert (remediation["status"], remediation["dry_run"]) == ("reverted", False)
    assert remediation["detail"] == "revoked"  # the alert names the rule beside it: not twice
    assert remediation["rule_id"] == (added[0]["SecurityGroupRuleId"] if with_rule_ids else None)
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 1
    assert alert["severity"] == "critical"
    assert alert["group"]["group_name"] == "web"


def test_replay_is_a_no_op_even_after_a_cold_start(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"))
    lambda_env(config(LIVE + f"audit:\n  db: {tmp_path / 'audit.sqlite'}\n"))
    event = build.eventbridge(rec)
    handler(event, None)
    handler(event, None)  # warm: the same process remembers
    clear_cache()
    handler(event, None)  # cold: the audit store remembers
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 1
    assert sg.ingress() == sorted(PRE_EXISTING)
    assert len(receiver.alerts()) == 1  # the sent ledger keeps the channel from repeating the alert

    from sgwatch.audit.store import AuditStore

    with AuditStore.open(tmp_path / "audit.sqlite") as store:
        assert [r.status for r in store.remediations()] == ["reverted"]


def test_dry_run_changes_nothing_and_a_later_live_delivery_still_acts(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"))
    db = f"audit:\n  db: {tmp_path / 'audit.sqlite'}\n"
    lambda_env(config("remediate:\n  enabled: true\n" + db))  # dry_run defaults to true
    handler(build.eventbridge(rec), None)
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0
    (planned,) = receiver.alert(rec["eventID"])["remediations"]
    assert (planned["status"], planned["dry_run"]) == ("planned", True)
    assert planned["detail"] == "would revoke the added rule by id"

    lambda_env(config(LIVE + db))  # dry run turned off; the queue redelivers the same event
    handler(build.eventbridge(rec), None)
    assert sg.ingress() == sorted(PRE_EXISTING)
    told = [a["remediations"] for a in receiver.alerts() if a["event_id"] == rec["eventID"]]
    assert [[(r["status"], r["detail"]) for r in rs] for rs in told] == [
        [("planned", "would revoke the added rule by id")],
        [("reverted", "revoked")],  # the channel hears of the revert the later delivery made
    ]
    from sgwatch.audit.store import AuditStore

    with AuditStore.open(tmp_path / "audit.sqlite") as store:
        assert [(r.status, r.dry_run) for r in store.remediations()] == [("planned", True), ("reverted", False)]


@pytest.mark.parametrize("marker", ["own-role", "configured-role"])
def test_loop_guard_leaves_sgwatch_own_changes_alone(
    marker: str, aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    added = sg.authorize(22, "0.0.0.0/0")
    extra = ""
    if marker == "own-role":  # the identity STS reports for sgwatch itself (moto: a user)
        identity = build.client("sts").get_caller_identity()["Arn"]
        rec = build.authorize(
            sg.group_id, added, userIdentity={"type": "IAMUser", "arn": identity, "accountId": build.account}
        )
    else:
        extra = "  own_role_arns: ['arn:aws:iam::*:role/Admin']\n"
        rec = build.authorize(sg.group_id, added)
    lambda_env(config(LIVE + extra))
    handler(build.eventbridge(rec), None)
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    (skipped,) = receiver.alert(rec["eventID"])["remediations"]
    assert skipped["status"] == "skipped"
    assert skipped["detail"].startswith("loop guard: made by sgwatch")
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0


@pytest.mark.parametrize("mark", ["user-agent", "session-name"])
def test_a_caller_posing_as_sgwatch_does_not_escape_the_revert(
    mark: str, aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    """sgwatch's role is known (STS): a user agent or a session name saying "sgwatch" is the caller's choice."""
    sg = group()
    added = sg.authorize(22, "0.0.0.0/0")
    if mark == "user-agent":
        rec = build.authorize(sg.group_id, added, userAgent="Boto3/1.44 md/Botocore#1.44 sgwatch/9.9 attacker")
    else:
        admin = f"arn:aws:sts::{build.account}:assumed-role/Admin/sgwatch-mallory"
        identity = {"type": "AssumedRole", "arn": admin, "accountId": build.account,
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{build.account}:role/Admin"}}}  # fmt: skip
        rec = build.authorize(sg.group_id, added, userIdentity=identity)
    lambda_env(config(LIVE))
    handler(build.eventbridge(rec), None)
    assert ("tcp", 22, 22, "0.0.0.0/0") not in sg.ingress()
    (done,) = receiver.alert(rec["eventID"])["remediations"]
    assert done["status"] == "reverted"


def test_a_change_in_another_account_is_not_touched(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"), recipientAccountId="444455556666")
    lambda_env(config(LIVE))
    handler(build.eventbridge(rec), None)
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    alert = receiver.alert(rec["eventID"])
    assert alert["remediations"][0]["detail"] == (
        "the change is in account 444455556666; sgwatch acts in account 123456789012 only"
    )
    assert "enrichment describes account 123456789012 only" in alert["enrichment_error"]
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0
    assert aws.count("ec2:DescribeSecurityGroups") == 0


def test_allowlisted_principal_is_not_reverted(
    build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"))
    lambda_env(config(LIVE + "  allowlist: ['arn:aws:iam::*:role/Admin']\n"))
    handler(build.eventbridge(rec), None)
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    (skipped,) = receiver.alert(rec["eventID"])["remediations"]
    assert "is in the remediation allowlist" in skipped["detail"]


def test_modified_rule_is_restored_from_the_audit_trail(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    sg = group()
    (rule,) = sg.authorize(5432, "10.1.0.0/16")
    lambda_env(config(LIVE + f"audit:\n  db: {tmp_path / 'audit.sqlite'}\n"))
    handler(build.eventbridge(build.authorize(sg.group_id, [rule], eventTime="2026-03-01T10:00:00Z")), None)
    new = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "0.0.0.0/0"}
    build.client("ec2").modify_security_group_rules(
        GroupId=sg.group_id,
        SecurityGroupRules=[{"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "SecurityGroupRule": new}],
    )
    assert ("tcp", 5432, 5432, "0.0.0.0/0") in sg.ingress()
    modify = build.modify(sg.group_id, rule["SecurityGroupRuleId"], {k: str(v) for k, v in new.items()})
    handler(build.eventbridge(modify), None)
    assert ("tcp", 5432, 5432, "10.1.0.0/16") in sg.ingress()
    assert ("tcp", 5432, 5432, "0.0.0.0/0") not in sg.ingress()
    (restored,) = receiver.alert(modify["eventID"])["remediations"]
    assert (restored["status"], restored["detail"]) == ("restored", "restored to tcp/5432 from 10.1.0.0/16")


def test_modified_rule_without_history_is_revoked_when_world_open(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    (rule,) = sg.authorize(5432, "10.1.0.0/16")
    new = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "0.0.0.0/0"}
    build.client("ec2").modify_security_group_rules(
        GroupId=sg.group_id,
        SecurityGroupRules=[{"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "SecurityGroupRule": new}],
    )
    modify = build.modify(sg.group_id, rule["SecurityGroupRuleId"], {k: str(v) for k, v in new.items()})
    lambda_env(config(LIVE))  # enrichment on (the Lambda default) tells the rule's direction
    handler(build.eventbridge(modify), None)
    assert sg.ingress() == sorted(PRE_EXISTING)
    (revoked,) = receiver.alert(modify["eventID"])["remediations"]
    assert revoked["status"] == "reverted"
    assert aws.count("ec2:DescribeSecurityGroupRules") == 1


UNAUTHORIZED = (
    "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this"
    " operation.</Message></Error></Errors><RequestID>x</RequestID></Response>"
)


@pytest.fixture
def failing_ec2(http_sink: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """An EC2 endpoint on 127.0.0.1 that refuses every call (UnauthorizedOperation)."""
    fake = http_sink()
    fake.default.status, fake.default.body = 403, UNAUTHORIZED
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", fake.url)
    return str(fake.url)


def test_a_failed_revert_is_an_alert_and_fails_only_its_message(
    build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, failing_ec2: str
) -> None:
    sg_rules = [{"GroupId": "sg-0123456789abcdef0", "SecurityGroupRuleId": "sgr-0123456789abcdef0", "IsEgress": False,
                 "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}]  # fmt: skip
    bad = build.authorize("sg-0123456789abcdef0", sg_rules)
    web = build.authorize(
        "sg-0123456789abcdef0", [{**sg_rules[0], "SecurityGroupRuleId": "sgr-0aaa", "FromPort": 443, "ToPort": 443}]
    )
    lambda_env(config(LIVE + "enrich: false\n"))
    event = build.sqs_event(
        ("m-bad", json.dumps(build.eventbridge(bad))), ("m-web", json.dumps(build.eventbridge(web)))
    )
    assert handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    (failed,) = receiver.alert(bad["eventID"])["remediations"]
    assert failed["status"] == "failed"
    assert "UnauthorizedOperation" in failed["detail"]
    assert receiver.alert(web["eventID"])["remediations"] == []  # low severity: out of remediation scope

    from sgwatch.errors import RemediationError

    with pytest.raises(RemediationError, match="the event will be retried: remediation"):
        handler(build.eventbridge(bad), None)  # not a batch: Lambda retries the invocation


def _modify_rule(build: Any, group_id: str, rule_id: str, new: dict[str, Any]) -> None:
    build.client("ec2").modify_security_group_rules(
        GroupId=group_id, SecurityGroupRules=[{"SecurityGroupRuleId": rule_id, "SecurityGroupRule": new}]
    )


def test_a_modified_egress_rule_to_the_world_is_not_revoked_as_if_it_were_ingress(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group()
    ec2 = build.client("ec2")
    (rule,) = ec2.authorize_security_group_egress(GroupId=sg.group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    ])["SecurityGroupRules"]  # fmt: skip
    new = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "0.0.0.0/0"}
    _modify_rule(build, sg.group_id, rule["SecurityGroupRuleId"], new)
    modify = build.modify(sg.group_id, rule["SecurityGroupRuleId"], {k: str(v) for k, v in new.items()})
    lambda_env(config(LIVE + "  min_severity: info\n"))  # in scope: only the world test decides
    handler(build.eventbridge(modify), None)
    alert = receiver.alert(modify["eventID"])
    (change,) = alert["changes"]
    assert set(change["findings"]) == {"RULE_MODIFIED", "WORLD_EGRESS"}
    (left,) = alert["remediations"]
    assert (left["status"], left["detail"]) == (
        "skipped", "previous definition unknown and the rule is not open to the world: left as is",
    )  # fmt: skip
    assert aws.count("ec2:RevokeSecurityGroupEgress") == 0
    egress = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg.group_id]}])
    assert any(r["SecurityGroupRuleId"] == rule["SecurityGroupRuleId"] and r.get("CidrIpv4") == "0.0.0.0/0"
               for r in egress["SecurityGroupRules"])  # fmt: skip


def test_many_modifies_of_one_rule_in_a_batch_still_restore_the_previous_definition(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    import datetime as dt

    sg = group()
    (rule,) = sg.authorize(5432, "10.1.0.0/16")
    rule_id = rule["SecurityGroupRuleId"]
    world = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "0.0.0.0/0"}
    _modify_rule(build, sg.group_id, rule_id, world)  # what the last event below left in place
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    cidrs = [f"10.{i}.0.0/16" for i in range(2, 9)] + ["0.0.0.0/0"]  # 7 private moves, then the world
    records = [
        build.modify(sg.group_id, rule_id, {**{k: str(v) for k, v in world.items()}, "CidrIpv4": cidr},
                     eventTime=(start + dt.timedelta(minutes=i)).isoformat().replace("+00:00", "Z"))
        for i, cidr in enumerate(cidrs)
    ]  # fmt: skip
    lambda_env(config(LIVE))  # enrichment on: each change looks the rule up (one describe for the batch)
    event = build.sqs_event(*((f"m-{i}", json.dumps(build.eventbridge(r))) for i, r in enumerate(records)))
    assert handler(event, None) == {"batchItemFailures": []}
    assert aws.count("ec2:DescribeSecurityGroupRules") == 1
    (restored,) = receiver.alert(records[-1]["eventID"])["remediations"]
    assert (restored["status"], restored["detail"]) == ("restored", "restored to tcp/5432 from 10.8.0.0/16")
    assert ("tcp", 5432, 5432, "10.8.0.0/16") in sg.ingress()
    assert ("tcp", 5432, 5432, "0.0.0.0/0") not in sg.ingress()


def _move_remediations_table(db: Path, away: bool) -> None:
    import sqlite3

    with sqlite3.connect(db) as conn:
        names = ("remediations", "remediations_away")
        conn.execute("ALTER TABLE {} RENAME TO {}".format(*(names if away else names[::-1])))


@pytest.mark.parametrize("mode", ["live", "live-by-rule-id", "dry-run"])
def test_an_unreadable_replay_record_fails_only_its_item_and_never_acts_blind(
    mode: str, aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    from sgwatch.audit.store import AuditStore

    db = tmp_path / "audit.sqlite"
    AuditStore.open(db).close()
    _move_remediations_table(db, away=True)  # replay status unreadable: "no such table"
    sg = group()
    ssh = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"), with_rule_ids=mode == "live-by-rule-id")
    web = build.authorize(sg.group_id, sg.authorize(443, "0.0.0.0/0"))  # low: out of remediation scope
    lambda_env(config(("remediate:\n  enabled: true\n" if mode == "dry-run" else LIVE) + f"audit:\n  db: {db}\n"))
    event = build.sqs_event(
        ("m-ssh", json.dumps(build.eventbridge(ssh))), ("m-web", json.dumps(build.eventbridge(web)))
    )

    result = handler(event, None)

    (outcome,) = receiver.alert(ssh["eventID"])["remediations"]
    assert receiver.alert(web["eventID"])["remediations"] == []
    if mode == "live-by-rule-id":  # revoking a rule id twice is harmless (the id never comes back): done
        assert result == {"batchItemFailures": []}
        assert (outcome["status"], outcome["detail"]) == ("reverted", "revoked")
        assert ("tcp", 22, 22, "0.0.0.0/0") not in sg.ingress()
        return
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    if mode == "dry-run":  # nothing is executed: the plan is made and reported as usual
        assert result == {"batchItemFailures": []}
        assert (outcome["status"], outcome["dry_run"]) == ("planned", True)
        return
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-ssh"}]}
    assert outcome["status"] == "failed"
    assert "cannot tell whether this change was already reverted" in outcome["detail"]
    assert "no such table: remediations" in outcome["detail"]

    _move_remediations_table(db, away=False)  # the store is back; SQS redelivers the failed message
    retry = build.sqs_event(("m-ssh", json.dumps(build.eventbridge(ssh))))
    assert handler(retry, None) == {"batchItemFailures": []}
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 1
    assert ("tcp", 22, 22, "0.0.0.0/0") not in sg.ingress()


def test_a_bad_notify_section_fails_the_cold_start_before_anything_is_reverted(
    aws: Any, build: Any, group: Any, lambda_env: Any, receiver: Any, tmp_path: Path
) -> None:
    from sgwatch.errors import ConfigError

    sg = group()
    rec = build.authorize(sg.group_id, sg.authorize(22, "0.0.0.0/0"))
    path = tmp_path / "bad-notify.yaml"
    path.write_text(f"notify:\n  - type: webhook\n    url: {receiver.url}\n    min_severity: severe\n" + LIVE)
    lambda_env(path)
    with pytest.raises(ConfigError, match=r"bad-notify.yaml:4: notify\[0\] \(webhook\): min_severity: unknown"):
        handler(build.eventbridge(rec), None)
    assert aws.count("ec2:RevokeSecurityGroupIngress") == 0
    assert ("tcp", 22, 22, "0.0.0.0/0") in sg.ingress()
    assert receiver.alerts() == []
