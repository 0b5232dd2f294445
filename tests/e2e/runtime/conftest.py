"""The runtime against local parts: one moto server on 127.0.0.1 for the session (state reset per test),
a local HTTP server standing in for a webhook receiver, and CloudTrail records built from what moto returns."""

from __future__ import annotations

import copy
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ALICE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:alice",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
    "accountId": ACCOUNT,
    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


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
def aws_env(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point everything at moto, with fake credentials and no user config; one boto3 default session whose
    service models are loaded once, with a hook that records every call the code under test makes."""
    home = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "SGWATCH_CONFIG", "AWS_LAMBDA_FUNCTION_NAME"):
            mp.delenv(name, raising=False)
        for name, value in {
            "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        }.items():  # fmt: skip
            mp.setenv(name, value)
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


class Receiver:
    """Webhook receiver on 127.0.0.1: keeps each alert document; answers 500 to events in ``fail_events``."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.fail_events: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = body.get("data", {})
                failing = data.get("event_id") in receiver.fail_events
                if not failing:
                    receiver.documents.append(body)
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self) -> list[dict[str, Any]]:
        return [d["data"] for d in self.documents if d["type"] == "sgwatch.alert"]

    def alert(self, event_id: str) -> dict[str, Any]:
        found = [a for a in self.alerts() if a["event_id"] == event_id]
        assert len(found) == 1, f"{len(found)} alerts for {event_id}: {self.alerts()}"
        return found[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


ConfigWriter = Callable[..., Path]


@pytest.fixture
def config(tmp_path: Path, receiver: Receiver) -> ConfigWriter:
    """Write a config: the webhook receiver as the channel, plus any extra YAML text."""
    counter = iter(range(1000))

    def write(extra: str = "") -> Path:
        path = tmp_path / f"config-{next(counter)}.yaml"
        path.write_text(
            "notify:\n"
            f"  - type: webhook\n    url: {receiver.url}\n    min_severity: info\n"
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
    """The record/envelope builders, for test modules (conftest functions are not importable)."""

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


@pytest.fixture
def build() -> type[Build]:
    return Build
