"""The enrichment port: what sgwatch asks EC2 about a group. The boto3 adapter lives in ``aws.py``."""

from __future__ import annotations

from typing import Protocol

from sgwatch.enrich.facts import GroupFacts, InterfaceFacts, RuleFacts


class Ec2Describer(Protocol):
    """Read-only EC2 questions, one region at a time. Failures raise ``EnrichError``; "not found" is None."""

    def group(self, region: str | None, group_id: str) -> GroupFacts | None: ...

    def rule(self, region: str | None, rule_id: str) -> RuleFacts | None: ...

    def interfaces(self, region: str | None, group_id: str) -> tuple[InterfaceFacts, ...]: ...

    def prefix_list_cidrs(self, region: str | None, prefix_list_id: str) -> tuple[str, ...] | None: ...
