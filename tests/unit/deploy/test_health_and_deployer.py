"""Pure parts of doctor and the deployer: selector judgement, rule coverage, change-set bookkeeping."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from sgwatch.deploy.deployer import change_set_type, failure_reasons, format_change, stack_parameters
from sgwatch.deploy.health import (
    Check,
    delivery_failures,
    error_total,
    missing_event_names,
    records_management_writes,
)
from sgwatch.deploy.pipeline import event_pattern
from sgwatch.deploy.template import TemplateOptions, build_template
from sgwatch.errors import DeployError
from sgwatch.normalize.events import SG_EVENT_NAMES


def advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"Name": "s", "FieldSelectors": list(fields)}]}


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ({"EventSelectors": [], "AdvancedEventSelectors": []}, True),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, True),
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}, True),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}, False),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, False),
        (
            {
                "EventSelectors": [
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "ExcludeManagementEventSources": ["ec2.amazonaws.com"],
                    }
                ]
            },
            False,
        ),
        (advanced(MANAGEMENT), True),
        (advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}), True),
        (advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}), False),
        (advanced({"Field": "eventCategory", "Equals": ["Data"]}), False),
        (advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["ec2.amazonaws.com"]}), False),
        (advanced(MANAGEMENT, {"Field": "eventSource", "Equals": ["iam.amazonaws.com"]}), False),
        (advanced(MANAGEMENT, {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]}), True),
    ],
)
def test_records_management_writes(selectors: dict[str, Any], expected: bool) -> None:
    assert records_management_writes(selectors) is expected


def test_missing_event_names() -> None:
    assert missing_event_names(json.dumps(event_pattern())) == ()
    partial = event_pattern()
    partial["detail"]["eventName"] = ["AuthorizeSecurityGroupIngress"]
    assert missing_event_names(partial) == tuple(n for n in SG_EVENT_NAMES if n != "AuthorizeSecurityGroupIngress")
    assert missing_event_names({"source": ["aws.s3"]}) == SG_EVENT_NAMES
    assert missing_event_names({"source": ["aws.ec2"]}) == ()


def test_error_total_and_delivery_failures() -> None:
    assert error_total([]) == 0
    assert error_total([{"Sum": 2.0}, {"Sum": 1.0}]) == 3
    deliveries = [
        SimpleNamespace(channel="slack", status="delivered", detail=""),
        SimpleNamespace(channel="pager", status="failed", detail="HTTP 400"),
    ]
    assert delivery_failures(deliveries) == ["pager: HTTP 400"]


def test_check_status() -> None:
    assert Check(name="a", ok=True, detail="").status == "pass"
    assert Check(name="a", ok=False, detail="").status == "fail"
    assert Check(name="a", ok=True, detail="", skipped=True).status == "skip"


def test_change_set_type() -> None:
    assert change_set_type(None, "s") == "CREATE"
    assert change_set_type({"StackStatus": "REVIEW_IN_PROGRESS"}, "s") == "CREATE"
    assert change_set_type({"StackStatus": "UPDATE_ROLLBACK_COMPLETE"}, "s") == "UPDATE"
    with pytest.raises(DeployError, match=r"ROLLBACK_COMPLETE .*sgwatch deploy --delete --stack-name s"):
        change_set_type({"StackStatus": "ROLLBACK_COMPLETE"}, "s")
    with pytest.raises(DeployError, match="busy"):
        change_set_type({"StackStatus": "UPDATE_IN_PROGRESS"}, "s")


def test_stack_parameters_keep_previous_values_on_update() -> None:
    template = build_template(TemplateOptions(existing_trail=True))
    stack = {"Parameters": [{"ParameterKey": "ConfigYaml"}, {"ParameterKey": "AlertEmail"}]}
    given = {"CodeBucket": "b", "CodeKey": "k"}
    update = stack_parameters(template, given, stack, "UPDATE")
    assert {"ParameterKey": "ConfigYaml", "UsePreviousValue": True} in update
    assert {"ParameterKey": "CodeKey", "ParameterValue": "k"} in update
    assert "LogRetentionDays" not in {p["ParameterKey"] for p in update}
    create = stack_parameters(template, given, None, "CREATE")
    assert [p["ParameterKey"] for p in create] == ["CodeBucket", "CodeKey"]
    with pytest.raises(DeployError, match=r"unknown stack parameter.*AlertMail"):
        stack_parameters(template, {"AlertMail": "x"}, None, "CREATE")


def test_failure_reasons_and_change_lines() -> None:
    events = [
        {"LogicalResourceId": "s", "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "ROLLBACK_FAILED"},
        {"LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue", "ResourceStatus": "CREATE_COMPLETE"},
        {
            "LogicalResourceId": "Function",
            "ResourceType": "AWS::Lambda::Function",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Error occurred while GetObject. S3 Error Code: NoSuchKey",
        },
    ]
    assert failure_reasons(events) == [
        "Function (AWS::Lambda::Function): CREATE_FAILED: Error occurred while GetObject. S3 Error Code: NoSuchKey",
        "s (AWS::CloudFormation::Stack): ROLLBACK_FAILED: no reason given",
    ]
    change = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue",
                                 "Replacement": "True"}}  # fmt: skip
    assert format_change(change) == "Modify  Queue (AWS::SQS::Queue) replacement: True"
