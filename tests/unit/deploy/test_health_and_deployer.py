"""Pure parts of doctor and the deployer: selector judgement, rule coverage, change-set bookkeeping."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from sgwatch.deploy.deployer import (
    change_set_type,
    check_parameter_names,
    failure_reasons,
    format_change,
    stack_parameters,
)
from sgwatch.deploy.health import (
    Check,
    delivery_failures,
    error_total,
    function_variables,
    judge_backlog,
    judge_consumer,
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


QUEUE = "arn:aws:sqs:eu-west-1:111122223333:sgw-Queue-1"
CREATE = (
    f"aws lambda create-event-source-mapping --function-name fn --event-source-arn {QUEUE} "
    "--function-response-types ReportBatchItemFailures"
)


def mapping(state: str, *, queue: str = QUEUE, uuid: str = "u-1", reason: str = "") -> dict[str, Any]:
    found = {"UUID": uuid, "EventSourceArn": queue, "State": state}
    return {**found, "StateTransitionReason": reason} if reason else found


@pytest.mark.parametrize("state", ["Enabled", "Creating", "Enabling", "Updating"])
def test_an_active_event_source_mapping_reads_the_queue(state: str) -> None:
    check = judge_consumer([mapping("Disabled", uuid="old"), mapping(state)], function="fn", queue_arn=QUEUE)
    assert check == Check(
        name="Queue consumer", ok=True, detail=f"event source mapping u-1 from the queue to fn is {state}"
    )


def test_a_missing_or_inactive_event_source_mapping_is_a_failure_with_a_fix() -> None:
    other = mapping("Enabled", queue="arn:aws:sqs:eu-west-1:111122223333:other")
    none = judge_consumer([other], function="fn", queue_arn=QUEUE)
    assert (none.ok, none.fix) == (False, CREATE)
    assert none.detail == f"no event source mapping from {QUEUE} to fn: nothing reads the queue"
    disabled = judge_consumer([mapping("Disabled", reason="USER_INITIATED")], function="fn", queue_arn=QUEUE)
    assert not disabled.ok
    assert (
        disabled.detail
        == f"event source mapping u-1 from {QUEUE} to fn is Disabled (USER_INITIATED): nothing reads the queue"
    )
    assert disabled.fix == "aws lambda update-event-source-mapping --uuid u-1 --enabled"
    deleting = judge_consumer([mapping("Deleting")], function="fn", queue_arn=QUEUE)
    assert (deleting.ok, deleting.fix) == (False, CREATE)


def queue(waiting: int, in_flight: int, retention: int = 345600) -> dict[str, str]:
    return {
        "ApproximateNumberOfMessages": str(waiting),
        "ApproximateNumberOfMessagesNotVisible": str(in_flight),
        "MessageRetentionPeriod": str(retention),
    }


def test_a_backlog_fails_only_when_nothing_is_known_to_read_it() -> None:
    assert judge_backlog(queue(0, 0), url="u", consumed=False) == Check(name="Queue backlog", ok=True, detail="empty")
    read = judge_backlog(queue(3, 2), url="u", consumed=True)
    assert read == Check(
        name="Queue backlog", ok=True, detail="3 event(s) waiting, 2 in flight in u; the function reads the queue"
    )
    unread = judge_backlog(queue(0, 1), url="u", consumed=False)
    assert not unread.ok
    assert unread.detail == (
        "0 event(s) waiting, 1 in flight in u and nothing reads the queue: they expire after 4 days without "
        "reaching the dead-letter queue"
    )
    assert unread.fix.startswith("restore the function's event source mapping (see Queue consumer)")
    unknown = judge_backlog(queue(5, 0, retention=7200), url="u", consumed=None)
    assert not unknown.ok
    assert unknown.detail == "5 event(s) waiting, 0 in flight in u; whether anything reads the queue is not known"
    assert unknown.fix == "fix the Queue consumer check first: unread events expire after 2 hours"
    assert "after 90 s without" in judge_backlog(queue(1, 0, retention=90), url="u", consumed=False).detail
    assert "after 1 day without" in judge_backlog(queue(1, 0, retention=86400), url="u", consumed=False).detail


def test_function_variables() -> None:
    variables = {"SGWATCH_CONFIG": "ssm:/sgwatch/config", "SGWATCH_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:t"}
    assert function_variables({"Environment": {"Variables": variables}}) == (variables, "")
    assert function_variables({"FunctionName": "fn"}) == ({}, "")
    error = {"ErrorCode": "KMSAccessDeniedException", "Message": "Lambda was unable to decrypt"}
    assert function_variables({"Environment": {"Error": error}}) == (
        None,
        "the function's environment is not readable: KMSAccessDeniedException: Lambda was unable to decrypt",
    )


def test_parameter_names_are_checked_against_the_template() -> None:
    template = build_template(TemplateOptions())
    check_parameter_names(template, {"AlertEmail": "a@example.com", "KmsKeyArns": "", "ConfigYaml": "x"})
    with pytest.raises(DeployError, match=r"^unknown stack parameter\(s\) Foo, Zed \(this template takes: "):
        check_parameter_names(template, {"Zed": "1", "AlertEmail": "a", "Foo": "bar"})
    member = build_template(TemplateOptions(org_member="arn:aws:events:us-east-1:111122223333:event-bus/default"))
    with pytest.raises(DeployError, match="CodeKey"):
        check_parameter_names(member, {"CodeKey": "k"})
