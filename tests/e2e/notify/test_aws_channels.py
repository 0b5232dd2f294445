"""SNS publishing and SSM / Secrets Manager secret references, against moto (and the requests themselves, against a
local HTTP server standing in for AWS)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify.delivery import deliver_alerts
from sgwatch.runtime.clients import USER_AGENT

pytestmark = pytest.mark.e2e


def sns_to_queue() -> tuple[str, str]:
    sns = boto3.client("sns", region_name="eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="sg-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="sg-alerts-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def received(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_sns_publishes_json_with_a_short_subject(alerts: ModuleType, aws_env: None, config: Any, clock: Any) -> None:
    topic, queue_url = sns_to_queue()
    cfg = config(f"notify:\n  - type: sns\n    topic_arn: {topic}\n")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.detail.startswith("SNS message ")
    (envelope,) = received(queue_url)
    assert envelope["Subject"].startswith("[sgwatch] CRITICAL: Admin or database port open to the world")
    assert len(envelope["Subject"]) < 100
    assert envelope["Subject"].isascii()
    document = json.loads(envelope["Message"])  # the queue gets the "default" variant
    assert document["type"] == "sgwatch.alert"
    assert document["data"]["changes"][0]["rule_id"] == "sgr-0aaa1111bbbb2222c"
    assert envelope["MessageAttributes"]["severity"]["Value"] == "critical"


def test_sns_missing_topic_fails_the_channel_only(
    alerts: ModuleType, aws_env: None, config: Any, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config("notify:\n  - type: sns\n    topic_arn: arn:aws:sns:eu-west-1:123456789012:nope\n  - type: console\n")
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg, clock=clock)
    sns = [d for d in deliveries if d.channel == "sns"]
    assert [(d.status, d.attempts) for d in sns] == [(DeliveryStatus.FAILED, 1), (DeliveryStatus.FAILED, 0)]
    assert sns[0].detail.startswith("NotFound")
    assert [d.status for d in deliveries if d.channel == "console"] == [DeliveryStatus.DELIVERED] * 2
    assert capsys.readouterr().err.count("Admin or database port open to the world") == 2


def test_secrets_resolve_from_ssm_and_secrets_manager_at_send_time(
    alerts: ModuleType, aws_env: None, sink: Any, config: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/sgwatch/slack-url", Value=f"{sink.url}/slack/T000/B000/XXXXSECRET", Type="SecureString"
    )
    arn = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="sgwatch/webhook", SecretString=json.dumps({"url": f"{sink.url}/hook/TOKENSECRET"})
    )["ARN"]
    cfg = config(f"""
        notify:
          - type: slack
            url: ssm:/sgwatch/slack-url
          - type: webhook
            url: secretsmanager:{arn}#url
          - type: teams
            url: ssm:/sgwatch/missing
    """)
    deliveries = {d.channel: d for d in deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)}
    assert deliveries["slack"].status is DeliveryStatus.DELIVERED
    assert deliveries["webhook"].status is DeliveryStatus.DELIVERED
    assert deliveries["teams"].status is DeliveryStatus.FAILED
    assert deliveries["teams"].detail == (
        "not sent: secret ssm:/sgwatch/missing: cannot read it (ParameterNotFound); check the name and IAM access"
    )
    assert [r.path for r in sink.received] == ["/slack/T000/B000/XXXXSECRET", "/hook/TOKENSECRET"]
    shown = caplog.text + repr(deliveries)
    assert "XXXXSECRET" not in shown
    assert "TOKENSECRET" not in shown


PUBLISHED = (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId>'
    "</PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>"
)


def test_every_aws_call_of_notify_names_sgwatch_in_its_user_agent(
    alerts: ModuleType,
    sink: Any,
    config: Any,
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    aws_environ: Callable[..., dict[str, str | None]],
    support: Callable[[str], ModuleType],
) -> None:
    """The secret read (SSM, with retries) and the publish (SNS, without) both go through clients that mark
    sgwatch's own calls; the local server stands in for both endpoints."""
    support("support/aws.py").apply(monkeypatch, aws_environ(sink.url))
    topic = "arn:aws:sns:eu-west-1:123456789012:sg-alerts"
    parameter = {"Parameter": {"Name": "/sgwatch/topic", "Type": "String", "Value": topic, "Version": 1}}
    sink.script("/", (200, json.dumps(parameter)), (200, PUBLISHED))
    cfg = config("notify:\n  - type: sns\n    topic_arn: ssm:/sgwatch/topic\n")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.detail) == (DeliveryStatus.DELIVERED, "SNS message m-1")
    ssm, sns = sink.on("/")
    assert ssm.headers["x-amz-target"] == "AmazonSSM.GetParameter"
    assert b"Action=Publish" in sns.body
    for request in (ssm, sns):
        assert USER_AGENT in request.headers["user-agent"].split(), request.headers["user-agent"]
