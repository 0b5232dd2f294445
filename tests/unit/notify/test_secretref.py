"""Secret references: a reference holding another service's ARN fails when the config loads (file:line of the
key), the clients made for secret reads carry sgwatch's user agent, and importing the module loads no boto3."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from sgwatch.errors import ConfigError
from sgwatch.notify.config import SnsConfig, parse_notify
from sgwatch.notify.secretref import SecretRef, _boto3_client
from sgwatch.runtime.clients import USER_AGENT
from sgwatch.settings import load_settings_text

ACCOUNT = "123456789012"
SSM_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/team/slack"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:team/slack-Ab12Cd"


@pytest.mark.parametrize(
    ("text", "kind", "ref"),
    [
        ("secretsmanager:team/slack#url", "secretsmanager", "team/slack#url"),
        (f"secretsmanager:{SECRET_ARN}#url", "secretsmanager", f"{SECRET_ARN}#url"),
        (f"secretsmanager:{SECRET_ARN.removesuffix('-Ab12Cd')}", "secretsmanager", SECRET_ARN.removesuffix("-Ab12Cd")),
        ("ssm:/team/slack:3", "ssm", "/team/slack:3"),
        (f"ssm:{SSM_ARN}:live", "ssm", f"{SSM_ARN}:live"),
        ("env:SLACK_URL", "env", "SLACK_URL"),
        ("https://hooks.example/arn:aws:ssm:x", "inline", "https://hooks.example/arn:aws:ssm:x"),
    ],
)
def test_names_and_arns_of_the_references_own_service_parse(text: str, kind: str, ref: str) -> None:
    assert SecretRef.parse(text) == SecretRef(kind=kind, ref=ref)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"secretsmanager:{SSM_ARN}", f"secretsmanager:{SSM_ARN}: not a secretsmanager ARN; give arn:<partition>:"),
        (f"secretsmanager:{SSM_ARN}#url", f"secretsmanager:{SSM_ARN}: not a secretsmanager ARN; give arn:"),
        (f"secretsmanager:arn:aws:secretsmanager:us-east-1:{ACCOUNT}:x", f"secretsmanager:arn:aws:secretsmanager:us-east-1:{ACCOUNT}:x: not a secretsmanager ARN"),
        (f"ssm:{SECRET_ARN}", f"ssm:{SECRET_ARN}: not a ssm ARN; give arn:<partition>:ssm:<region>:<account>:"),
        (f"ssm:arn:aws:ssm:us-east-1:{ACCOUNT}:document/x", f"ssm:arn:aws:ssm:us-east-1:{ACCOUNT}:document/x: not a ssm ARN"),
    ],
)  # fmt: skip
def test_a_reference_holding_another_services_arn_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r", or the name alone$") as caught:
        SecretRef.parse(text)
    assert str(caught.value).startswith(message)


def load(text: str) -> Any:
    return parse_notify(load_settings_text(textwrap.dedent(text), "sgwatch.yaml", environ={}))


def test_loading_the_config_names_the_keys_line_and_what_to_give() -> None:
    text = f"""\
        enrich: true
        notify:
          - type: slack
            name: team
            url: secretsmanager:{SSM_ARN}#url
        """
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert str(caught.value) == (
        f"sgwatch.yaml:5: notify[0] (team): url: secretsmanager:{SSM_ARN}: not a secretsmanager ARN; give "
        "arn:<partition>:secretsmanager:<region>:<account>:secret:<name>, or the name alone"
    )


def test_an_sns_topic_behind_a_reference_is_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"^sgwatch\.yaml:4: notify\[0\] \(sns\): topic_arn: ssm:arn:aws:secretsm"):
        load(f"notify:\n  - type: sns\n    region: eu-west-1\n    topic_arn: ssm:{SECRET_ARN}\n")
    (channel,) = load(f"notify:\n  - type: sns\n    topic_arn: ssm:{SSM_ARN}\n").channels
    assert isinstance(channel, SnsConfig)
    assert channel.topic_arn == SecretRef(kind="ssm", ref=SSM_ARN)


class Captured(Exception):
    """Raised by the test's before-send hook: the request is built and signed, and never sent."""


@pytest.mark.parametrize(("service", "region"), [("secretsmanager", "us-east-2"), ("ssm", None)])
def test_secret_read_clients_send_sgwatchs_user_agent(local_only_aws: str, service: str, region: str | None) -> None:
    client = _boto3_client(service, region)
    assert client.meta.region_name == (region or local_only_aws)
    headers: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        headers.update({key: str(value) for key, value in request.headers.items()})
        raise Captured

    client.meta.events.register("before-send", capture)
    read = {"ssm": lambda: client.get_parameter(Name="/team/slack"), "secretsmanager": lambda: client.get_secret_value(SecretId="team/slack")}  # fmt: skip
    with pytest.raises(Captured):
        read[service]()
    assert USER_AGENT.startswith("sgwatch/")
    assert USER_AGENT in headers["User-Agent"]


def test_importing_the_module_loads_no_aws_sdk() -> None:
    code = "import json, sys\nimport sgwatch.notify.secretref\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    heavy = ("boto3", "botocore", "httpx", "sgwatch.runtime")
    assert [name for name in json.loads(out) if name.split(".")[0] in heavy or name.startswith(heavy)] == []
