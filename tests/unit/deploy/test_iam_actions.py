"""The function role grants exactly the AWS calls the function makes: no grant nothing uses, no call left out.

The calls are read from the source, not listed by hand: the modules the Lambda handler can load (imports, lazy
imports, ``"sgwatch.x:Y"`` references, and whole packages for their lazy exports), the boto3 clients they create
(``client("ec2")``, ``for_service(...)``, ``aws_client(...)``), and every operation of those services that an
AWS adapter names (a method call, or the string it passes to ``getattr``). botocore's service models turn an
operation name into its IAM action. What the scan cannot see is listed below, reviewed, with the reason.
Calls that only some configs make are granted only when configured: a statement under a condition, on exactly
the ARNs its parameter lists (``sgwatch deploy --config`` derives them; tests/unit/deploy/test_grantplan.py).
One statement grants what no sgwatch code calls: the KMS use of the services the code does call, reviewed below
(``KMS_ON_BEHALF``) and excluded only when it is exactly that statement.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import sgwatch
from sgwatch.deploy.template import TemplateOptions, build_template

ENTRY = "sgwatch.lambda_handler"
CLIENT_FACTORIES = frozenset({"client", "for_service", "aws_client"})
REMEDIATION_PACKAGE = "sgwatch.remediate"  # its calls are granted only with --remediation

# Reviewed: calls Lambda makes with the function's role, which no sgwatch code names. The SQS event source
# mapping polls the queue and deletes what the function processed; the runtime writes the function's logs
# (the stack creates the log group, so no logs:CreateLogGroup).
CALLED_BY_LAMBDA = frozenset(
    {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
)
# Reviewed: calls the function's code can make that the stack deliberately grants nothing for.
NOT_GRANTED = {
    "sts:GetCallerIdentity": "needs no permission",
    "s3:GetObject": "S3 object notifications: the stack wires no bucket to the function",
    "s3:ListObjectsV2": "S3 object notifications: the stack wires no bucket to the function",
}
# Reviewed: calls made only for some configs -> (the parameter listing the ARNs they are granted on, the caller).
GRANTED_WHEN_CONFIGURED = {
    "secretsmanager:GetSecretValue": ("SecretArns", "sgwatch.notify.secretref"),  # secretsmanager: reference
    "ssm:GetParameter": ("SecretParameterArns", "sgwatch.notify.secretref"),  # ssm: reference (config: always)
    "ses:SendEmail": ("SesIdentityArns", "sgwatch.notify.email"),  # an email channel with transport: ses
    "sns:Publish": ("SnsTopicArns", "sgwatch.notify.sns"),  # an sns channel's own topic (the stack's: always)
}
ONLY_WHEN_CONFIGURED = frozenset({"secretsmanager:GetSecretValue", "ses:SendEmail"})
# Reviewed: the KMS calls Secrets Manager, SSM and SNS make on the function's behalf when a secret, a SecureString
# parameter or a topic is encrypted with a customer-managed key; no sgwatch code calls KMS. Allowed beyond the
# code's calls is this statement exactly: the two actions, on the keys KmsKeyArns lists (none: no statement),
# only in requests those services make in the stack's region. Anything else that grants KMS counts as unused.
KMS_PARAMETER = "KmsKeyArns"
KMS_ON_BEHALF: dict[str, Any] = {
    "Sid": "UseCustomerManagedKeys",
    "Effect": "Allow",
    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
    "Resource": {"Ref": KMS_PARAMETER},
    "Condition": {
        "StringEquals": {
            "kms:ViaService": [
                {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"},
                {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"},
                {"Fn::Sub": "sns.${AWS::Region}.${AWS::URLSuffix}"},
            ]
        }
    },
}
# The code's calls that make each of those services use the key: read a secret or a parameter, publish.
KMS_VIA_CALLS = {"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameter", "sns": "sns:Publish"}


def _source_modules() -> dict[str, Path]:
    root = Path(sgwatch.__file__).parent
    out: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = ["sgwatch", *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _references(tree: ast.AST) -> Iterator[str]:
    """Module names a module imports (at any depth) or names in a string (``"sgwatch.notify.sns:SnsSender"``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("sgwatch."):
            yield node.value.partition(":")[0]


@cache
def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in _source_modules().items()}


@cache
def function_modules() -> frozenset[str]:
    """Every sgwatch module the Lambda handler can load."""
    trees = _trees()
    seen: set[str] = set()
    todo = [ENTRY]
    while todo:
        name = todo.pop()
        if name not in trees or name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts))]  # parent packages run first
        if name != "sgwatch" and _source_modules()[name].name == "__init__.py":
            todo += [other for other in trees if other.startswith(name + ".")]  # lazy exports
        todo += _references(trees[name])
    return frozenset(seen)


def _client_services(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in CLIENT_FACTORIES and isinstance(node.args[0].value, str):
                out.add(node.args[0].value)
    return out


def _is_adapter(tree: ast.AST) -> bool:
    """Talks to AWS: imports boto3/botocore or creates a client (house style keeps AWS calls in adapters)."""
    imported = {name.split(".")[0] for name in _references(tree)}
    return bool(imported & {"boto3", "botocore"}) or bool(_client_services(tree))


def _names(tree: ast.AST) -> set[str]:
    """Attribute names and string constants: a boto3 call is ``client.op(...)`` or ``getattr(client, "op")``."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)
    return out


@cache
def function_calls() -> dict[str, frozenset[str]]:
    """IAM action -> the function modules whose code makes that call."""
    import botocore.session  # the service models (local files)
    from botocore import xform_name

    trees = {name: _trees()[name] for name in function_modules()}
    services = set().union(*(_client_services(tree) for tree in trees.values()))
    session = botocore.session.get_session()
    calls: dict[str, set[str]] = {}
    for service in sorted(services):
        model = session.get_service_model(service)
        prefix = model.metadata.get("signingName") or model.metadata["endpointPrefix"]  # sesv2 -> ses
        operations = {xform_name(op): op for op in model.operation_names}
        for module, tree in trees.items():
            if _is_adapter(tree):
                for name in _names(tree) & operations.keys():
                    calls.setdefault(f"{prefix}:{operations[name]}", set()).add(module)
    return {action: frozenset(modules) for action, modules in calls.items()}


def remediation_calls() -> set[str]:
    """The calls only the remediation stage makes."""
    package = REMEDIATION_PACKAGE + "."
    return {action for action, modules in function_calls().items() if all(m.startswith(package) for m in modules)}


def expected_grants(*, remediation: bool) -> set[str]:
    used = set(function_calls()) - (set() if remediation else remediation_calls())
    return (used - NOT_GRANTED.keys()) | CALLED_BY_LAMBDA


def function_role_statements(doc: dict[str, Any], *, configured: bool) -> list[dict[str, Any]]:
    """The role's statements with every condition true (``configured``) or false (no grant parameter set)."""
    out: list[dict[str, Any]] = []
    for policy in doc["Resources"]["FunctionRole"]["Properties"]["Policies"]:
        for entry in policy["PolicyDocument"]["Statement"]:
            stmt = entry["Fn::If"][1 if configured else 2] if "Fn::If" in entry else entry
            if stmt != {"Ref": "AWS::NoValue"}:
                out.append(stmt)
    return out


def actions(stmt: dict[str, Any]) -> set[str]:
    return {stmt["Action"]} if isinstance(stmt["Action"], str) else set(stmt["Action"])


def function_role_actions(doc: dict[str, Any], *, configured: bool = True) -> set[str]:
    """The actions the role grants for the code's calls: every statement's but the reviewed KMS_ON_BEHALF."""
    out: set[str] = set()
    for stmt in function_role_statements(doc, configured=configured):
        if stmt != KMS_ON_BEHALF:
            out |= actions(stmt)
    return out


def conditional_grants(doc: dict[str, Any]) -> dict[str, str]:
    """Action -> parameter of every conditional statement, checked to grant nothing else and nothing otherwise."""
    out: dict[str, str] = {}
    for policy in doc["Resources"]["FunctionRole"]["Properties"]["Policies"]:
        for stmt in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" not in stmt:
                continue
            condition, when_true, when_false = stmt["Fn::If"]
            assert when_false == {"Ref": "AWS::NoValue"}, condition
            parameter = when_true["Resource"]["Ref"]
            assert doc["Conditions"][condition] == {
                "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": parameter}]}, ""]}]
            }, f"{condition} must hold exactly when {parameter} is not empty"
            assert doc["Parameters"][parameter] == {
                "Type": "CommaDelimitedList",
                "Description": doc["Parameters"][parameter]["Description"],
                "Default": "",
            }
            if when_true == KMS_ON_BEHALF:
                continue  # reviewed above; test_kms_is_granted_only_as_the_reviewed_statement
            assert set(when_true) == {"Sid", "Effect", "Action", "Resource"}, when_true
            assert when_true["Effect"] == "Allow"
            assert isinstance(when_true["Action"], str), "one action per conditional statement"
            out[when_true["Action"]] = parameter
    return out


def test_function_role_grants_exactly_the_calls_the_code_makes(central: tuple[str, TemplateOptions]) -> None:
    _, options = central
    granted = function_role_actions(build_template(options), configured=True)
    expected = expected_grants(remediation=options.remediation)
    calls = function_calls()
    unused = sorted(granted - expected)
    missing = {action: sorted(calls.get(action, ("Lambda",))) for action in sorted(expected - granted)}
    assert not unused, f"FunctionRole grants what no code calls: {unused}"
    assert not missing, f"FunctionRole lacks calls the code makes (action: modules): {missing}"


def test_revert_calls_are_granted_only_with_remediation() -> None:
    revert = remediation_calls()
    assert revert, "the scan found no remediation call"
    assert revert <= function_role_actions(build_template(TemplateOptions(remediation=True)))
    assert not revert & function_role_actions(build_template(TemplateOptions()))


def test_config_dependent_calls_are_granted_only_when_configured(central: tuple[str, TemplateOptions]) -> None:
    _, options = central
    doc = build_template(options)
    assert conditional_grants(doc) == {action: parameter for action, (parameter, _) in GRANTED_WHEN_CONFIGURED.items()}
    unconfigured = function_role_actions(doc, configured=False)
    assert unconfigured == function_role_actions(doc, configured=True) - ONLY_WHEN_CONFIGURED
    assert "ssm:GetParameter" in unconfigured  # the config parameter, always
    parameters = [parameter for parameter, _ in GRANTED_WHEN_CONFIGURED.values()] + [KMS_PARAMETER]
    for stmt in function_role_statements(doc, configured=False):
        assert stmt["Resource"] not in [{"Ref": parameter} for parameter in parameters]


def test_kms_is_granted_only_as_the_reviewed_statement(central: tuple[str, TemplateOptions]) -> None:
    _, options = central
    doc = build_template(options)
    kms = [s for s in function_role_statements(doc, configured=True) if any(a.startswith("kms:") for a in actions(s))]
    assert kms == [KMS_ON_BEHALF]
    assert not any(a.startswith("kms:") for s in function_role_statements(doc, configured=False) for a in actions(s)), (
        "KMS is granted only when KmsKeyArns lists keys"
    )


def test_the_kms_allowance_is_that_statement_exactly() -> None:
    doc = build_template(TemplateOptions())
    assert not {a for a in function_role_actions(doc) if a.startswith("kms:")}
    widenings: tuple[Callable[[dict[str, Any]], object], ...] = (
        lambda stmt: stmt.pop("Condition"),
        lambda stmt: stmt["Action"].append("kms:Encrypt"),
        lambda stmt: stmt.update(Resource="*"),
    )
    for widen in widenings:
        widened = copy.deepcopy(doc)
        for policy in widened["Resources"]["FunctionRole"]["Properties"]["Policies"]:
            for entry in policy["PolicyDocument"]["Statement"]:
                if "Fn::If" in entry and entry["Fn::If"][1].get("Sid") == KMS_ON_BEHALF["Sid"]:
                    widen(entry["Fn::If"][1])
        assert {"kms:Decrypt", "kms:GenerateDataKey"} <= function_role_actions(widened)


def test_kms_is_allowed_through_exactly_the_services_the_code_calls() -> None:
    via = KMS_ON_BEHALF["Condition"]["StringEquals"]["kms:ViaService"]
    assert [entry["Fn::Sub"].split(".")[0] for entry in via] == list(KMS_VIA_CALLS)
    calls = function_calls()
    assert [action for action in KMS_VIA_CALLS.values() if action not in calls] == []


@pytest.mark.parametrize("action", sorted(NOT_GRANTED))
def test_reviewed_exceptions_are_still_called_and_not_granted(action: str) -> None:
    assert action in function_calls(), f"{action}: no code calls it any more; drop it from NOT_GRANTED"
    assert action not in function_role_actions(build_template(TemplateOptions(remediation=True)))


@pytest.mark.parametrize("action", sorted(GRANTED_WHEN_CONFIGURED))
def test_config_dependent_calls_are_still_called(action: str) -> None:
    _, caller = GRANTED_WHEN_CONFIGURED[action]
    assert caller in function_calls().get(action, ()), f"{caller} no longer calls {action}: review its grant parameter"


def test_the_scan_follows_lazy_and_string_imports_but_not_the_cli() -> None:
    modules = function_modules()
    assert "sgwatch.notify.sns" in modules  # only named as "sgwatch.notify.sns:SnsSender"
    assert "sgwatch.enrich.aws" in modules
    assert not any(m.startswith(("sgwatch.cli", "sgwatch.deploy")) for m in modules)
    assert "sgwatch.enrich.aws" in function_calls()["ec2:DescribeSecurityGroups"]
