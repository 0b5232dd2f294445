"""Grants the function needs only for some configs: secrets it reads and the SES identities it sends from.

Each grant is a CommaDelimitedList parameter of ARNs (empty by default) and a condition; the function role's
statement for it exists only when the list is not empty, and names exactly those ARNs. ``sgwatch deploy
--config`` fills the lists from the config's ``notify:`` section (sgwatch.deploy.grantplan).
"""

from __future__ import annotations

from dataclasses import dataclass

from sgwatch.deploy.cfn import NO_VALUE, Fragment, Json, if_, ref, statement


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """One optional grant: its stack parameter, the one action it allows, and what the ARNs name."""

    parameter: str
    action: str
    sid: str
    what: str  # what the parameter lists, for its description and the deploy plan

    @property
    def condition(self) -> str:
        return f"Has{self.parameter}"


GRANTS: tuple[Grant, ...] = (
    Grant(
        parameter="SecretArns",
        action="secretsmanager:GetSecretValue",
        sid="ReadSecrets",
        what="Secrets Manager secrets the channels' secret references read",
    ),
    Grant(
        parameter="SecretParameterArns",
        action="ssm:GetParameter",
        sid="ReadSecretParameters",
        what="SSM parameters (besides the config parameter) the channels' secret references read",
    ),
    Grant(
        parameter="SesIdentityArns",
        action="ses:SendEmail",
        sid="SendEmailThroughSes",
        what="SES identities the email channels send from",
    ),
)
GRANT_PARAMETERS: tuple[str, ...] = tuple(grant.parameter for grant in GRANTS)


def grants_fragment() -> Fragment:
    """The grant parameters (empty by default) and one condition each: the list is not empty."""
    return Fragment(
        parameters={
            grant.parameter: {
                "Type": "CommaDelimitedList",
                "Description": f"ARNs of {grant.what} ({grant.action}; empty: no grant)",
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
    """The function role's conditional statements: each action on exactly its parameter's ARNs, or nothing."""
    return [
        if_(grant.condition, statement(grant.sid, [grant.action], ref(grant.parameter)), NO_VALUE) for grant in GRANTS
    ]
