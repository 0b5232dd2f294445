"""The Lambda handler with every envelope, settings from a file or SSM, enrichment, partial batch failures."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest

from sgwatch.errors import ConfigError, SourceError
from sgwatch.lambda_handler import handler

from .conftest import load_fixture

SSH_EVENT = "5f1b2c3d-0000-4000-9000-000000000001"  # the record inside every fixture envelope
WEB_EVENT = "5f1b2c3d-0000-4000-9000-000000000015"


class Context:
    aws_request_id = "req-0001"


@pytest.mark.parametrize("name", ["eventbridge", "sns", "sqs", "sqs_sns", "cloudwatch_logs"])
def test_every_envelope_gives_the_same_alert(name: str, build: Any, config: Any, lambda_env: Any, receiver: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    lambda_env(config())
    result = handler(build.envelope(name), Context())
    if name.startswith("sqs"):
        assert result == {"batchItemFailures": []}
    else:
        assert (result["alerts"], result["problems"], result["failures"]) == (1, 0, [])
    alert = receiver.alert(SSH_EVENT)
    assert alert["severity"] == "critical"
    assert [c["rule_id"] for c in alert["changes"]] == ["sgr-0111aaaa2222bbbb3"]
    # Enrichment is on by default in Lambda; the fixture's account is not the one sgwatch runs in (moto's).
    assert alert["enrichment_error"] == (
        "sg-0a1b2c3d4e5f60718 is in account 111122223333; enrichment describes account 123456789012 only"
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    batch = [line for line in lines if line.get("event") == "batch"]
    assert batch
    assert batch[-1]["request_id"] == "req-0001"
    assert batch[-1]["changes"] >= 1


def test_s3_notifications_fetch_and_scan_the_log_file(build: Any, config: Any, lambda_env: Any, receiver: Any) -> None:
    event = build.s3_log_notification([load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")])
    lambda_env(config("enrich: false\n"))
    assert handler(event, None)["alerts"] == 1
    assert receiver.alert(SSH_EVENT)["changes"][0]["peer"] == "0.0.0.0/0"

    # Through SQS: a missing object fails only its own message.
    missing = json.loads(json.dumps(event))
    key = event["Records"][0]["s3"]["object"]["key"]
    missing["Records"][0]["s3"]["object"]["key"] = key.replace(".json.gz", "-gone.json.gz")
    batch = build.sqs_event(("m-ok", json.dumps(event)), ("m-missing", json.dumps(missing)))
    assert handler(batch, None) == {"batchItemFailures": [{"itemIdentifier": "m-missing"}]}


def test_partial_batch_failure_reports_only_the_failed_items(
    build: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    lambda_env(config("enrich: false\n"))
    receiver.fail_events.add(WEB_EVENT)  # the webhook refuses this alert (HTTP 500, one attempt)
    event = build.envelope("sqs_partial")
    result = handler(event, None)
    ids = [r["messageId"] for r in event["Records"]]
    assert result == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}
    assert [a["event_id"] for a in receiver.alerts()] == [SSH_EVENT]
    receiver.fail_events.clear()  # the queue redelivers the two failed messages: only the alert is sent now
    retry = {"Records": event["Records"][2:]}
    assert handler(retry, None) == {"batchItemFailures": []}
    assert sorted(a["event_id"] for a in receiver.alerts()) == sorted([SSH_EVENT, WEB_EVENT])


def test_settings_from_an_ssm_parameter(build: Any, config: Any, lambda_env: Any, receiver: Any) -> None:
    name = f"/sgwatch/{uuid.uuid4().hex[:8]}/config"
    build.client("ssm").put_parameter(Name=name, Type="SecureString", Value=config("enrich: false\n").read_text())
    lambda_env(f"ssm:{name}")
    handler(build.envelope("eventbridge"), None)
    alert = receiver.alert(SSH_EVENT)
    assert alert["enrichment_error"] is None
    assert alert["group"] is None
    lambda_env(f"ssm:{name}-missing")
    with pytest.raises(ConfigError, match=f"ssm:{name}-missing: cannot read the config parameter: ParameterNotFound"):
        handler(build.envelope("eventbridge"), None)


def test_enrichment_describes_the_group_and_its_exposure(
    aws: Any, build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    sg = group(tags={"sgwatch:owner": "team-payments"})
    ec2 = build.client("ec2")
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": sg.subnet_id, "Groups": [sg.group_id], "AssociatePublicIpAddress": True}])  # fmt: skip
    rec = build.authorize(sg.group_id, sg.authorize(8080, "0.0.0.0/0"))
    lambda_env(config())
    handler(build.eventbridge(rec), None)
    alert = receiver.alert(rec["eventID"])
    assert alert["enrichment_error"] is None
    assert {k: alert["group"][k] for k in ("group_name", "vpc_id", "is_default", "owner", "exposed_now", "interface_count")} == {
        "group_name": "web", "vpc_id": sg.vpc_id, "is_default": False, "owner": "team-payments", "exposed_now": True,
        "interface_count": 1,
    }  # fmt: skip
    assert len(alert["group"]["instance_ids"]) == 1
    assert alert["severity"] == "critical"  # high (port 8080 open to the world), raised by GROUP_EXPOSED_NOW
    assert "GROUP_EXPOSED_NOW" in alert["changes"][0]["findings"]
    assert aws.count("ec2:DescribeSecurityGroups") == 1
    assert aws.count("ec2:DescribeNetworkInterfaces") == 1


def test_prefix_list_with_the_world_and_the_ignore_tag(
    build: Any, group: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    ec2 = build.client("ec2")
    pl = ec2.create_managed_prefix_list(PrefixListName=f"pl-{uuid.uuid4().hex[:6]}", MaxEntries=5, AddressFamily="IPv4",
                                        Entries=[{"Cidr": "0.0.0.0/0"}])["PrefixList"]["PrefixListId"]  # fmt: skip
    sg = group()
    request = {"groupId": sg.group_id, "ipPermissions": {"items": [
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "prefixListIds": {"items": [{"prefixListId": pl}]}}]}}  # fmt: skip
    rec = build.record("AuthorizeSecurityGroupIngress", request, {"_return": True})
    ignored = group(tags={"sgwatch:ignore": "true"}, name="scratch")
    quiet = build.authorize(ignored.group_id, ignored.authorize(22, "0.0.0.0/0"))
    lambda_env(config())
    handler(
        build.sqs_event(("m-1", json.dumps(build.eventbridge(rec))), ("m-2", json.dumps(build.eventbridge(quiet)))),
        None,
    )
    alert = receiver.alert(rec["eventID"])
    assert "PREFIX_LIST_WORLD_INGRESS" in alert["changes"][0]["findings"]
    assert alert["severity"] == "critical"
    assert [a for a in receiver.alerts() if a["event_id"] == quiet["eventID"]] == []


def test_a_direct_s3_notification_fails_when_an_object_cannot_be_read(
    build: Any, config: Any, lambda_env: Any, receiver: Any
) -> None:
    """Not through SQS: raising is what makes Lambda retry the event (then its on-failure destination), so an
    object that cannot be downloaded fails the invocation, after the readable objects were processed."""
    event = build.s3_log_notification([load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")])
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    gone = json.loads(json.dumps(event["Records"][0]))
    gone["s3"]["object"]["key"] = "AWSLogs/gone.json.gz"
    event["Records"] = [gone, event["Records"][0]]
    lambda_env(config("enrich: false\n"))

    with pytest.raises(SourceError, match=rf"retried: s3://{bucket}/AWSLogs/gone.json.gz: cannot read: .*NoSuchKey"):
        handler(event, None)
    assert receiver.alert(SSH_EVENT)["changes"][0]["peer"] == "0.0.0.0/0"

    digest = json.loads(json.dumps(event))  # a readable object that holds no CloudTrail records: not retried
    digest["Records"] = digest["Records"][1:]
    digest_key = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/01/digest.json.gz"
    digest["Records"][0]["s3"]["object"]["key"] = digest_key
    build.client("s3").put_object(
        Bucket=bucket, Key=digest_key, Body=gzip.compress(b'{"awsAccountId": "111122223333"}')
    )
    assert (handler(digest, None)["problems"], handler(digest, None)["failures"]) == (1, [])
