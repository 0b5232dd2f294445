"""The remediation port: carry out a plan. The boto3 adapter lives in ``revoke.py``."""

from __future__ import annotations

from typing import Protocol

from sgwatch.model import Remediation, RevokePlan


class Reverter(Protocol):
    """Execute one plan in one region and say what happened; a rule that is already gone is success.

    When the service answered, the outcome is returned, a refusal as ``FAILED`` (nothing was changed). When
    it did not answer (timeout, connection lost), ``RemediationError`` is raised: the plan may or may not
    have been carried out.
    """

    def execute(self, plan: RevokePlan, region: str | None) -> Remediation: ...
