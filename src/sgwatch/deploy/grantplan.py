"""Which optional grants a config needs (sgwatch.deploy.grants): the secrets its channels read, the SES identities
its email channels send from, the SNS topics its sns channels publish to, as ARNs in the deploy's partition,
region and account.

Pure: the config is parsed with the notify stage's own parser (read-only), nothing is called. A secret given by
name becomes the documented ``name-??????`` pattern (the six characters Secrets Manager appends); an SES sender
``alerts@mail.example.com`` needs whichever identity is verified, so the address and each of its domains are
granted; a topic ARN is granted as written, and one read from a secret reference cannot be known here, so the
plan says to pass it. Values given with ``--parameter`` win over derived ones; derived ARNs they leave out are
reported. The KMS keys are never derived: ``--parameter KmsKeyArns``, else the stack's value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sgwatch.deploy.grants import GRANTS, Grant
from sgwatch.deploy.pipeline import FUNCTION_ENV, TOPIC_ENV
from sgwatch.errors import ConfigError, DeployError
from sgwatch.notify.config import EmailConfig, SnsConfig, parse_notify
from sgwatch.notify.secretref import ARN_SHAPES, SecretRef
from sgwatch.settings import Settings, load_settings_text

SECRET_SUFFIX = "-??????"  # Secrets Manager appends "-" and six random characters to a secret's ARN
_COMPLETE_SECRET = re.compile(r"-[A-Za-z0-9]{6}$")  # how Secrets Manager itself tells a complete ARN
_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9*?-]+:[^:]*:[^:]*:.+$")
_PARAMETER_OF = {
    "secretsmanager": "SecretArns",
    "ssm": "SecretParameterArns",
    "ses": "SesIdentityArns",
    "sns": "SnsTopicArns",
}
_EXAMPLES = {
    "SecretArns": "arn:aws:secretsmanager:<region>:<account>:secret:<name>-??????",
    "SecretParameterArns": "arn:aws:ssm:<region>:<account>:parameter/<name>",
    "SesIdentityArns": "arn:aws:ses:<region>:<account>:identity/<address or domain>",
    "SnsTopicArns": "arn:aws:sns:<region>:<account>:<topic>",
    "KmsKeyArns": "arn:aws:kms:<region>:<account>:key/<key id>",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """A resource a channel reads or sends through at send time, as the config names it."""

    service: str  # secretsmanager | ssm | ses | sns
    name: str  # secret id, parameter name or ARN, the sender address, or the topic ARN (or the reference to it)
    region: str | None  # the channel's own region (SES); None: the function's
    where: str  # file:line and the channel's key, for the plan

    @property
    def parameter(self) -> str:
        return _PARAMETER_OF[self.service]


@dataclass(frozen=True, slots=True, kw_only=True)
class Granted:
    """One ARN of a grant parameter and where it comes from."""

    arn: str
    origin: str  # the config places that need it, the --parameter, or the stack's value it keeps


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantPlan:
    """The grant parameters' values and what to tell the operator about them."""

    grants: Mapping[str, tuple[Granted, ...]]  # every grant parameter, in GRANTS order
    parameters: Mapping[str, str]  # derived values to pass to the stack (explicit ones are already given)
    warnings: tuple[str, ...] = ()

    def lines(self) -> tuple[str, ...]:
        """The plan: one line per granted ARN (or ``none``), then the warnings."""
        out = ["function role grants for the config's secrets, SES email, SNS topics and KMS keys:"]
        for grant in GRANTS:
            entries = self.grants[grant.parameter]
            if not entries:
                out.append(f"  {grant.label:<30} none ({grant.parameter} empty)")
            for entry in entries:
                out.append(f"  {grant.label:<30} {entry.arn}  <- {entry.origin}")
        out += [f"warning: {text}" for text in self.warnings]
        return tuple(out)


def config_needs(text: str, source: str) -> tuple[Need, ...]:
    """The needs of the config YAML ``text`` (ConfigError, with file:line, when it does not parse)."""
    return settings_needs(load_settings_text(text, source, environ={}))


def settings_needs(settings: Settings) -> tuple[Need, ...]:
    """Every secret reference of the notify channels (Secrets Manager, SSM), every SES sender and every SNS
    topic but the stack's own, in order. A reference holding another service's ARN failed in parse_notify."""
    needs: list[Need] = []
    for index, channel in enumerate(parse_notify(settings).channels):
        label = f"{channel.where}: notify[{index}] ({channel.name})"
        for field in dataclasses.fields(channel):
            value = getattr(channel, field.name)
            if isinstance(value, SecretRef) and value.kind in ARN_SHAPES:
                needs.append(Need(service=value.kind, name=value.ref, region=None, where=f"{label}: {field.name}"))
            if isinstance(value, SecretRef) and value.kind == "env" and not _function_has(value.ref):
                raise ConfigError(
                    f"{label}: {field.name}: env:{value.ref}: the deployed function has no such variable (the stack "
                    f"sets {', '.join(FUNCTION_ENV)}); keep the secret in Secrets Manager or SSM "
                    "(secretsmanager:NAME, ssm:/NAME) and deploy again"
                )
        if isinstance(channel, EmailConfig) and channel.transport == "ses":
            address = channel.sender.rpartition("<")[2].rstrip(">").strip()
            needs.append(Need(service="ses", name=address, region=channel.region, where=f"{label}: from {address}"))
        if isinstance(channel, SnsConfig) and channel.topic_arn.describe() != f"env:{TOPIC_ENV}":
            topic = channel.topic_arn.ref if channel.topic_arn.kind == "inline" else channel.topic_arn.describe()
            needs.append(Need(service="sns", name=topic, region=None, where=f"{label}: topic_arn"))
    return tuple(needs)


def _function_has(variable: str) -> bool:
    """Whether the deployed function has this environment variable (the stack's, or one Lambda sets)."""
    return variable in FUNCTION_ENV or variable.startswith(("AWS_", "LAMBDA_"))


def need_arns(need: Need, *, partition: str, region: str, account: str) -> tuple[str, ...]:
    """The ARNs that grant ``need``: names are placed in ``partition``, ``region`` and ``account``. A topic ARN
    is used as written; none for a topic read from a reference at send time (the deploy cannot know it)."""
    if need.service == "sns":
        return (need.name,) if need.name.startswith("arn:") else ()
    if need.service == "secretsmanager":
        return (_secret_arn(need, partition=partition, region=region, account=account),)
    if need.service == "ssm":
        return (_parameter_arn(need, partition=partition, region=region, account=account),)
    prefix = f"arn:{partition}:ses:{need.region or region}:{account}:identity/"
    labels = need.name.rpartition("@")[2].split(".")
    domains = [".".join(labels[i:]) for i in range(len(labels) - 1)]  # mail.example.com, example.com
    return tuple(prefix + identity for identity in (need.name, *domains))


def _secret_arn(need: Need, *, partition: str, region: str, account: str) -> str:
    secret_id = need.name.partition("#")[0]
    if not secret_id.startswith("arn:"):
        return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret_id}{SECRET_SUFFIX}"
    # A partial ARN (no random suffix) is completed the way Secrets Manager reads it.
    return secret_id if _COMPLETE_SECRET.search(secret_id) else secret_id + SECRET_SUFFIX


def _parameter_arn(need: Need, *, partition: str, region: str, account: str) -> str:
    if not need.name.startswith("arn:"):
        name = need.name.split(":")[0]  # without a :version or :label selector
        return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
    return ":".join(need.name.split(":")[:6])  # without a :version or :label selector


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """A need and its ARNs. Secrets have one; an SES sender has alternatives (any verified one will do)."""

    need: Need
    arns: tuple[str, ...]


def derive_grants(needs: Sequence[Need], *, partition: str, region: str, account: str) -> tuple[Resolved, ...]:
    """The ARNs of every need, in the deploy's partition, region and account."""
    return tuple(
        Resolved(need=need, arns=need_arns(need, partition=partition, region=region, account=account)) for need in needs
    )


def _grouped(resolved: Sequence[Resolved], parameter: str) -> tuple[Granted, ...]:
    """The ARNs of ``parameter``: first use first, each once, with every place that uses it."""
    places: dict[str, list[str]] = {}
    for item in resolved:
        if item.need.parameter == parameter:
            for arn in item.arns:
                places.setdefault(arn, []).append(item.need.where)
    return tuple(Granted(arn=arn, origin="; ".join(wheres)) for arn, wheres in places.items())


def _items(value: str) -> tuple[str, ...]:
    """A CommaDelimitedList value as CloudFormation reads it: items trimmed; blanks dropped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def split_arns(grant: Grant, value: str) -> tuple[str, ...]:
    """A ``--parameter`` value as its ARNs; DeployError for an item that is not an ARN of the grant's service
    (a KMS alias ARN included: IAM matches the key's ARN, so an alias grants nothing)."""
    arns = _items(value)
    name = grant.parameter
    fix = "leave the parameter out to derive it from --config" if grant.derived else "give the keys' ARNs"
    for arn in arns:
        what = "an ARN" if not _ARN.match(arn) else f"a {grant.service} ARN"
        if what == "an ARN" or not covers(arn.split(":")[2], grant.service):
            raise DeployError(f"--parameter {name}: {arn!r} is not {what} (expected e.g. {_EXAMPLES[name]}); {fix}")
        if grant.service == "kms" and arn.split(":", 5)[5].startswith("alias/"):
            raise DeployError(
                f"--parameter {name}: {arn!r} does not name a key (IAM matches the key's ARN, not an alias: "
                f"expected e.g. {_EXAMPLES[name]})"
            )
    return arns


def covers(pattern: str, arn: str) -> bool:
    """Whether the IAM resource ``pattern`` (``*`` and ``?`` wildcards) matches ``arn``."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def _override_warnings(grant: Grant, arns: Sequence[str], derived: Sequence[Resolved]) -> list[str]:
    """What ``--parameter`` ``arns`` leave uncovered: derived needs none of whose ARNs they match."""
    name = grant.parameter
    return [
        f"--parameter {name} covers none of {', '.join(item.arns)}, needed by {item.need.where}: "
        "that channel will fail with AccessDenied"
        for item in derived
        if item.need.parameter == name and item.arns and not any(covers(p, arn) for p in arns for arn in item.arns)
    ]


def _unknown_warnings(grant: Grant, derived: Sequence[Resolved], given: Mapping[str, str]) -> list[str]:
    """Needs whose ARN is read at send time (a topic behind a reference), unless ``--parameter`` lists some."""
    name = grant.parameter
    if _items(given.get(name, "")):
        return []  # what the reference holds cannot be checked here: the operator's list stands
    return [
        f"{item.need.where}: the topic is read from {item.need.name} at send time, so deploy cannot grant it: "
        f"pass its ARN with --parameter {name}=... (with the other topics' ARNs), or that channel will fail "
        "with AccessDenied"
        for item in derived
        if item.need.parameter == name and not item.arns
    ]


def plan_grants(
    derived: Sequence[Resolved] | None,
    given: Mapping[str, str],
    previous: Mapping[str, str],
) -> GrantPlan:
    """The grant parameters: given with ``--parameter``, else ``derived`` from the config, else ``previous``
    (the stack's values on an update without a config, or for a grant no config names), else empty."""
    grants: dict[str, tuple[Granted, ...]] = {}
    parameters: dict[str, str] = {}
    warnings: list[str] = []
    for grant in GRANTS:
        name = grant.parameter
        if name in given:
            arns = split_arns(grant, given[name])
            grants[name] = tuple(Granted(arn=arn, origin=f"--parameter {name}") for arn in arns)
            warnings += _override_warnings(grant, arns, derived or ())
        elif derived is not None and grant.derived:
            grants[name] = _grouped(derived, name)
            parameters[name] = ",".join(entry.arn for entry in grants[name])
        else:
            why = "no --config" if grant.derived else f"not in the config; change it with --parameter {name}="
            kept = _items(previous.get(name, ""))
            grants[name] = tuple(Granted(arn=arn, origin=f"the stack's value ({why})") for arn in kept)
        warnings += _unknown_warnings(grant, derived or (), given)
    return GrantPlan(grants=grants, parameters=parameters, warnings=tuple(warnings))
