"""The runtime against local parts: the session's moto server on 127.0.0.1 (state shared: every test makes
its own resources), a local HTTP sink standing in for a webhook receiver, and CloudTrail records built from
what moto returns."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.conftest import support_module

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
load_fixture = support_module("support/cloudtrail.py").load_fixture  # the CloudTrail fixture records
ALICE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:alice",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
    "accountId": ACCOUNT,
    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin"}},
}


@dataclass
class Calls:
    """Every AWS operation the code under test made through boto3's default session."""

    made: list[str] = field(default_factory=list)

    def record(self, model: Any, **_: Any) -> None:
        self.made.append(f"{model.service_model.endpoint_prefix}:{model.name}")

    def count(self, name: str) -> int:
        return self.made.count(name)


CALLS = Calls()
_TEST_SESSION: list[Any] = []


@pytest.fixture(scope="session")
def aws_env(
    moto_url: str, aws_environ: Callable[..., dict[str, str | None]], support: Callable[[str], ModuleType]
) -> Iterator[None]:
    """Point everything at the session's moto server, with fake credentials and no user config; one boto3
    default session whose service models are loaded once, with a hook that records every call the code
    under test makes."""
    with pytest.MonkeyPatch.context() as mp:
        support("support/aws.py").apply(mp, aws_environ(moto_url, REGION))
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", CALLS.record)
        _TEST_SESSION.append(boto3.session.Session())
        yield
        boto3.DEFAULT_SESSION = None
        _TEST_SESSION.clear()


@pytest.fixture(autouse=True)
def aws(aws_env: None) -> Iterator[Calls]:
    """The calls made by the code under test during this test.

    moto's state is shared by the session (a reset costs seconds of backend start-up): every test creates
    its own VPC, group, queue, bucket and parameter, and looks only at those.
    """
    from sgwatch.lambda_handler import clear_cache

    clear_cache()
    CALLS.made.clear()
    yield CALLS
    clear_cache()


_CLIENTS: dict[str, Any] = {}


def client(service: str) -> Any:
    """A test-side client (its own session: its calls are not counted)."""
    if service not in _CLIENTS:
        _CLIENTS[service] = _TEST_SESSION[0].client(service, region_name=REGION)
    return _CLIENTS[service]


@pytest.fixture
def receiver(http_sink: Callable[..., Any]) -> Any:
    """The webhook receiver (tests/support/http_sink.py): keeps each alert document, answers HTTP 500 to the
    alerts of the event ids in ``fail_events``."""
    return http_sink()


@pytest.fixture
def create_table(build: Any, support: Callable[[str], ModuleType]) -> Callable[[], str]:
    """``create_table()``: a new sent-ledger table in moto, with the schema the stack creates."""
    return lambda: support("support/aws.py").create_ledger_table(build.client("dynamodb"))


ConfigWriter = Callable[..., Path]


@pytest.fixture
def config(tmp_path: Path, receiver: Any) -> ConfigWriter:
    """Write a config: the webhook receiver as the channel, plus any extra YAML text."""
    counter = iter(range(1000))

    def write(extra: str = "") -> Path:
        path = tmp_path / f"config-{next(counter)}.yaml"
        path.write_text(
            "notify:\n"
            f"  - type: webhook\n    url: {receiver.url}/hook\n    min_severity: info\n"
            "delivery:\n  max_attempts: 1\n  timeout: 5\n  burst: false\n" + extra
        )
        return path

    return write


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path | str], None]:
    """Point SGWATCH_CONFIG at a config (a new value means a new App: like a new deployment)."""
    return lambda ref: monkeypatch.setenv("SGWATCH_CONFIG", str(ref))


# --- CloudTrail records from what moto returns ---------------------------------------------------


def _permission_items(rule: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"ipProtocol": rule["IpProtocol"], "groups": {}, "ipRanges": {}, "ipv6Ranges": {},
                            "prefixListIds": {}}  # fmt: skip
    if rule["IpProtocol"] != "-1":
        item["fromPort"], item["toPort"] = rule["FromPort"], rule["ToPort"]
    if "CidrIpv4" in rule:
        item["ipRanges"] = {"items": [{"cidrIp": rule["CidrIpv4"]}]}
    if "CidrIpv6" in rule:
        item["ipv6Ranges"] = {"items": [{"cidrIpv6": rule["CidrIpv6"]}]}
    return item


def _response_item(rule: dict[str, Any]) -> dict[str, Any]:
    item = {"groupOwnerId": ACCOUNT, "groupId": rule["GroupId"], "securityGroupRuleId": rule["SecurityGroupRuleId"],
            "isEgress": rule["IsEgress"], "ipProtocol": rule["IpProtocol"]}  # fmt: skip
    if rule["IpProtocol"] != "-1":
        item["fromPort"], item["toPort"] = rule["FromPort"], rule["ToPort"]
    for key, name in (("CidrIpv4", "cidrIpv4"), ("CidrIpv6", "cidrIpv6")):
        if key in rule:
            item[name] = rule[key]
    return item


def record(
    event_name: str, request: dict[str, Any], response: dict[str, Any] | None, **overrides: Any
) -> dict[str, Any]:
    rec = copy.deepcopy(
        {
            "eventVersion": "1.09",
            "userIdentity": ALICE,
            "eventTime": "2026-03-01T10:15:30Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "aws-cli/2.15.0 Python/3.11.6",
            "requestParameters": request,
            "responseElements": response,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT,
        }
    )
    rec.update(overrides)
    return rec


def authorize_record(
    group_id: str, rules: list[dict[str, Any]], *, with_rule_ids: bool = True, **overrides: Any
) -> dict[str, Any]:
    """The record of AuthorizeSecurityGroupIngress as CloudTrail writes it, for rules moto created."""
    request = {"groupId": group_id, "ipPermissions": {"items": [_permission_items(r) for r in rules]}}
    response: dict[str, Any] = {"requestId": "r-1", "_return": True}
    if with_rule_ids:
        response["securityGroupRuleSet"] = {"items": [_response_item(r) for r in rules]}
    return record("AuthorizeSecurityGroupIngress", request, response, **overrides)


def modify_record(group_id: str, rule_id: str, new_rule: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    request = {"ModifySecurityGroupRulesRequest": {"GroupId": group_id, "SecurityGroupRule": {
        "SecurityGroupRuleId": rule_id, "SecurityGroupRule": new_rule}}}  # fmt: skip
    return record(
        "ModifySecurityGroupRules", request, {"ModifySecurityGroupRulesResponse": {"return": True}}, **overrides
    )


def eventbridge(rec: dict[str, Any]) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": ACCOUNT, "time": rec["eventTime"], "region": REGION, "resources": [], "detail": rec}  # fmt: skip


def sqs_event(*bodies: tuple[str, str]) -> dict[str, Any]:
    """A Lambda SQS event from (message id, body) pairs."""
    return {"Records": [{"messageId": mid, "receiptHandle": f"rh-{mid}", "body": body, "attributes": {},
                         "messageAttributes": {}, "eventSource": "aws:sqs",
                         "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:sgwatch", "awsRegion": REGION}
                        for mid, body in bodies]}  # fmt: skip


def envelope(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "envelopes" / "lambda" / f"{name}.json").read_text())
    return data


def s3_log_notification(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An S3 object-created notification for a gzip CloudTrail log file holding ``records``, stored in a new
    bucket on moto."""
    s3 = client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    event = envelope("s3_notification")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    key = event["Records"][0]["s3"]["object"]["key"]
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return event


@dataclass
class Group:
    """A security group in moto with a pre-existing world-open 3000-4000 rule and a private ssh rule."""

    group_id: str
    vpc_id: str
    subnet_id: str

    def ingress(self) -> list[tuple[str, int | None, int | None, str | None]]:
        rules = client("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [self.group_id]}])
        return sorted((r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r.get("CidrIpv4"))
                      for r in rules["SecurityGroupRules"] if not r["IsEgress"])  # fmt: skip

    def authorize(self, port: int, cidr: str) -> list[dict[str, Any]]:
        response = client("ec2").authorize_security_group_ingress(
            GroupId=self.group_id,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}],
        )
        rules: list[dict[str, Any]] = response["SecurityGroupRules"]
        return rules


@pytest.fixture
def group() -> Callable[..., Group]:
    def make(tags: dict[str, str] | None = None, name: str = "web") -> Group:
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        spec = [{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}]
        gid = ec2.create_security_group(GroupName=name, Description="test", VpcId=vpc,
                                        TagSpecifications=spec if tags else [])["GroupId"]  # fmt: skip
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ])  # fmt: skip
        return Group(group_id=gid, vpc_id=vpc, subnet_id=subnet)

    return make


class Build:
    """The record/envelope builders as one fixture, for the test modules."""

    account = ACCOUNT
    region = REGION
    alice = ALICE
    client = staticmethod(client)
    record = staticmethod(record)
    authorize = staticmethod(authorize_record)
    modify = staticmethod(modify_record)
    eventbridge = staticmethod(eventbridge)
    sqs_event = staticmethod(sqs_event)
    envelope = staticmethod(envelope)
    s3_log_notification = staticmethod(s3_log_notification)


@pytest.fixture
def build() -> type[Build]:
    return Build
