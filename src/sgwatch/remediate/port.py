"""The remediation port: carry out a plan. The boto3 adapter lives in ``revoke.py``."""

from __future__ import annotations

from typing import Protocol

from sgwatch.model import Remediation, RevokePlan


class Reverter(Protocol):
    """Execute one plan in one region; a rule that is already gone is success. Other failures raise
    ``RemediationError``."""

    def execute(self, plan: RevokePlan, region: str | None) -> Remediation: ...
