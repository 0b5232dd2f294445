"""Grants the function needs only for some configs: the secrets it reads, the SES identities it sends from, the
SNS topics it publishes to besides the stack's own, and the customer-managed KMS keys those are encrypted with.

Each grant is a CommaDelimitedList parameter of ARNs (empty by default) and a condition; the function role's
statement for it exists only when the list is not empty, and names exactly those ARNs. ``sgwatch deploy
--config`` fills the lists from the config's ``notify:`` section (sgwatch.deploy.grantplan), except the KMS
keys, which the config does not name: those are given with ``--parameter KmsKeyArns=...``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgwatch.deploy.cfn import NO_VALUE, Fragment, Json, if_, ref, statement, sub


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """One optional grant: its stack parameter, the actions it allows, and what the ARNs name."""

    parameter: str
    actions: tuple[str, ...]
    sid: str
    what: str  # what the parameter lists, for its description and the deploy plan
    derived: bool = True  # ``deploy --config`` fills it from the notify section; else --parameter or the stack's
    via_services: tuple[str, ...] = ()  # kms:ViaService: only in requests these services make, in the stack's region

    @property
    def condition(self) -> str:
        return f"Has{self.parameter}"

    @property
    def service(self) -> str:
        """The service whose ARNs the parameter lists (the actions' prefix)."""
        return self.actions[0].partition(":")[0]

    @property
    def label(self) -> str:
        """The actions as the deploy plan shows them: ``kms:Decrypt/GenerateDataKey``."""
        return f"{self.service}:" + "/".join(action.partition(":")[2] for action in self.actions)

    def statement(self) -> Json:
        """The statement the parameter's ARNs get: the actions on exactly those ARNs (and only via the services)."""
        condition = None
        if self.via_services:
            services = [sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}") for service in self.via_services]
            condition = {"StringEquals": {"kms:ViaService": services}}
        return statement(self.sid, list(self.actions), ref(self.parameter), condition=condition)


KMS_VIA_SERVICES = ("secretsmanager", "ssm", "sns")  # what decrypts a secret or parameter, encrypts for a topic
GRANTS: tuple[Grant, ...] = (
    Grant(
        parameter="SecretArns",
        actions=("secretsmanager:GetSecretValue",),
        sid="ReadSecrets",
        what="Secrets Manager secrets the channels' secret references read",
    ),
    Grant(
        parameter="SecretParameterArns",
        actions=("ssm:GetParameter",),
        sid="ReadSecretParameters",
        what="SSM parameters (besides the config parameter) the channels' secret references read",
    ),
    Grant(
        parameter="SesIdentityArns",
        actions=("ses:SendEmail",),
        sid="SendEmailThroughSes",
        what="SES identities the email channels send from",
    ),
    Grant(
        parameter="SnsTopicArns",
        actions=("sns:Publish",),
        sid="PublishToChannelTopics",
        what="SNS topics (besides the stack's own) the sns channels publish to",
    ),
    Grant(
        parameter="KmsKeyArns",
        actions=("kms:Decrypt", "kms:GenerateDataKey"),
        sid="UseCustomerManagedKeys",
        what=(
            "customer-managed KMS keys of those secrets, parameters and topics, used only through Secrets Manager, "
            "SSM and SNS in the stack's region"
        ),
        derived=False,
        via_services=KMS_VIA_SERVICES,
    ),
)


def grants_fragment() -> Fragment:
    """The grant parameters (empty by default) and one condition each: the list is not empty."""
    return Fragment(
        parameters={
            grant.parameter: {
                "Type": "CommaDelimitedList",
                "Description": f"ARNs of {grant.what} ({', '.join(grant.actions)}; empty: no grant)",
                "Default": "",
            }
            for grant in GRANTS
        },
        conditions={
            grant.condition: {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", ref(grant.parameter)]}, ""]}]}
            for grant in GRANTS
        },
    )


def grant_statements() -> list[Json]:
    """The function role's conditional statements: each grant's statement when its list is not empty, or nothing."""
    return [if_(grant.condition, grant.statement(), NO_VALUE) for grant in GRANTS]
