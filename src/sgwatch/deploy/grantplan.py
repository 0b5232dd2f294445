"""Which optional grants a config needs (sgwatch.deploy.grants): the secrets its channels read, the SES identities
its email channels send from, as ARNs in the deploy's partition, region and account.

Pure: the config is parsed with the notify stage's own parser (read-only), nothing is called. A secret given by
name becomes the documented ``name-??????`` pattern (the six characters Secrets Manager appends); an SES sender
``alerts@mail.example.com`` needs whichever identity is verified, so the address and each of its domains are
granted. Values given with ``--parameter`` win over derived ones; derived ARNs they leave out are reported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sgwatch.deploy.grants import GRANTS
from sgwatch.errors import ConfigError, DeployError
from sgwatch.notify.config import EmailConfig, parse_notify
from sgwatch.notify.secretref import SecretRef
from sgwatch.settings import Settings, load_settings_text

SECRET_SUFFIX = "-??????"  # Secrets Manager appends "-" and six random characters to a secret's ARN
_COMPLETE_SECRET = re.compile(r"-[A-Za-z0-9]{6}$")  # how Secrets Manager itself tells a complete ARN
_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[^:]*:[^:]*:.+$")
# What a reference holding an ARN must look like (the secret without #json_key, the parameter with a selector).
_REFERENCE_ARNS = {
    "secretsmanager": (
        re.compile(r"^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+$"),
        "arn:<partition>:secretsmanager:<region>:<account>:secret:<name>",
    ),
    "ssm": (
        re.compile(r"^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter/[^:]+(:[^:]+)?$"),
        "arn:<partition>:ssm:<region>:<account>:parameter/<name>",
    ),
}
_PARAMETER_OF = {"secretsmanager": "SecretArns", "ssm": "SecretParameterArns", "ses": "SesIdentityArns"}
_EXAMPLES = {
    "SecretArns": "arn:aws:secretsmanager:<region>:<account>:secret:<name>-??????",
    "SecretParameterArns": "arn:aws:ssm:<region>:<account>:parameter/<name>",
    "SesIdentityArns": "arn:aws:ses:<region>:<account>:identity/<address or domain>",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """A resource a channel reads or sends through at send time, as the config names it."""

    service: str  # secretsmanager | ssm | ses
    name: str  # secret id, parameter name or ARN, or the sender address
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

    def arns(self, parameter: str) -> tuple[str, ...]:
        return tuple(granted.arn for granted in self.grants[parameter])

    def lines(self) -> tuple[str, ...]:
        """The plan: one line per granted ARN (or ``none``), then the warnings."""
        out = ["function role grants for the config's secrets and SES email:"]
        for grant in GRANTS:
            entries = self.grants[grant.parameter]
            if not entries:
                out.append(f"  {grant.action:<30} none ({grant.parameter} empty)")
            for entry in entries:
                out.append(f"  {grant.action:<30} {entry.arn}  <- {entry.origin}")
        out += [f"warning: {text}" for text in self.warnings]
        return tuple(out)


def config_needs(text: str, source: str) -> tuple[Need, ...]:
    """The needs of the config YAML ``text`` (ConfigError, with file:line, when it does not parse)."""
    return settings_needs(load_settings_text(text, source, environ={}))


def settings_needs(settings: Settings) -> tuple[Need, ...]:
    """Every secret reference of the notify channels (Secrets Manager, SSM) and every SES sender, in order."""
    needs: list[Need] = []
    for index, channel in enumerate(parse_notify(settings).channels):
        label = f"{channel.where}: notify[{index}] ({channel.name})"
        for field in dataclasses.fields(channel):
            value = getattr(channel, field.name)
            if isinstance(value, SecretRef) and value.kind in _REFERENCE_ARNS:
                needs.append(_reference(value, f"{label}: {field.name}"))
        if isinstance(channel, EmailConfig) and channel.transport == "ses":
            address = channel.sender.rpartition("<")[2].rstrip(">").strip()
            needs.append(Need(service="ses", name=address, region=channel.region, where=f"{label}: from {address}"))
    return tuple(needs)


def _reference(secret: SecretRef, where: str) -> Need:
    """The need of a Secrets Manager or SSM reference; ConfigError when it holds an ARN of another kind."""
    target = secret.ref.partition("#")[0] if secret.kind == "secretsmanager" else secret.ref
    pattern, expected = _REFERENCE_ARNS[secret.kind]
    if target.startswith("arn:") and not pattern.match(target):
        raise ConfigError(
            f"{where}: {secret.kind}:{target}: not a {secret.kind} ARN; give {expected}, or the name alone"
        )
    return Need(service=secret.kind, name=secret.ref, region=None, where=where)


def need_arns(need: Need, *, partition: str, region: str, account: str) -> tuple[str, ...]:
    """The ARNs that grant ``need``: names are placed in ``partition``, ``region`` and ``account``."""
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


def split_arns(parameter: str, value: str) -> tuple[str, ...]:
    """A ``--parameter`` value as its ARNs; DeployError for an item that is not an ARN."""
    arns = _items(value)
    for arn in arns:
        if not _ARN.match(arn):
            raise DeployError(
                f"--parameter {parameter}: {arn!r} is not an ARN (expected e.g. {_EXAMPLES[parameter]}); "
                "leave the parameter out to derive it from --config"
            )
    return arns


def covers(pattern: str, arn: str) -> bool:
    """Whether the IAM resource ``pattern`` (``*`` and ``?`` wildcards) matches ``arn``."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def plan_grants(
    derived: Sequence[Resolved] | None,
    given: Mapping[str, str],
    previous: Mapping[str, str],
) -> GrantPlan:
    """The grant parameters: given with ``--parameter``, else ``derived`` from the config, else ``previous``
    (the stack's values on an update without a config), else empty."""
    grants: dict[str, tuple[Granted, ...]] = {}
    parameters: dict[str, str] = {}
    warnings: list[str] = []
    for grant in GRANTS:
        name = grant.parameter
        from_config = _grouped(derived or (), name)
        if name in given:
            arns = split_arns(name, given[name])
            grants[name] = tuple(Granted(arn=arn, origin=f"--parameter {name}") for arn in arns)
            warnings += [
                f"--parameter {name} covers none of {', '.join(item.arns)}, needed by {item.need.where}: "
                "that channel will fail with AccessDenied"
                for item in derived or ()
                if item.need.parameter == name and not any(covers(p, arn) for p in arns for arn in item.arns)
            ]
        elif derived is not None:
            grants[name] = from_config
            parameters[name] = ",".join(entry.arn for entry in from_config)
        else:
            kept = _items(previous.get(name, ""))
            grants[name] = tuple(Granted(arn=arn, origin="the stack's value (no --config)") for arn in kept)
    return GrantPlan(grants=grants, parameters=parameters, warnings=tuple(warnings))
