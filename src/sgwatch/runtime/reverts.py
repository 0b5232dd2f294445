"""What became of each revert, per (event id, rule), in the sent ledger the process already has (the DynamoDB
table shared by every Lambda container, the audit database, or memory): a replay is a no-op in any container,
and a revert whose outcome was never recorded is not repeated blind.

Kept in the ledger's own terms, apart from the alerts: the channel ``sgwatch:remediation``, the alert id
``remediation:<account>:<event id>`` (an alert's id is ``<account>:<event id>``), and one key per fact about
one rule: ``<rule key>#attempt:<n>`` (attempt n was started), ``<rule key>#refused:<n>`` (EC2 refused attempt
n: nothing was changed) and ``<rule key>#done:<status>`` (reverted, restored or already_reverted). One ledger
read tells the story of one change; each fact is one write, made before (attempt) or after (outcome) the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgwatch.model import RemediationStatus, RuleChange
from sgwatch.notify.ledger import SentLedger

CHANNEL = "sgwatch:remediation"
MAX_ATTEMPTS = 10  # attempts of one revert; then it is left to a person
DONE = (RemediationStatus.REVERTED, RemediationStatus.RESTORED, RemediationStatus.ALREADY_REVERTED)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevertState:
    """The recorded story of one change's revert."""

    done: RemediationStatus | None = None  # carried out (never a dry run)
    attempts: int = 0  # attempts started
    refused: frozenset[int] = frozenset()  # attempts EC2 refused

    @property
    def unsettled(self) -> bool:
        """The last attempt started and its outcome was never recorded: it may or may not have been carried out
        (the process stopped during the call, or EC2 did not answer)."""
        return self.attempts > 0 and self.attempts not in self.refused


def _alert_id(change: RuleChange) -> str:
    return f"remediation:{change.account_id or 'unknown'}:{change.event_id}"


class RevertLog:
    """Reads and writes revert facts through a ``SentLedger``; its errors (``SgwatchError``) propagate."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: SentLedger) -> None:
        self._ledger = ledger

    def state(self, change: RuleChange) -> RevertState:
        """What was recorded for ``change`` (one ledger read)."""
        rule = change.rule_key
        done = {f"{rule}#done:{status}": status for status in DONE}
        attempts = {f"{rule}#attempt:{n}": n for n in range(1, MAX_ATTEMPTS + 1)}
        refused = {f"{rule}#refused:{n}": n for n in range(1, MAX_ATTEMPTS + 1)}
        found = self._ledger.sent_rules(CHANNEL, _alert_id(change), (*done, *attempts, *refused))
        return RevertState(
            done=next((status for key, status in done.items() if key in found), None),
            attempts=max((n for key, n in attempts.items() if key in found), default=0),
            refused=frozenset(n for key, n in refused.items() if key in found),
        )

    def started(self, change: RuleChange, attempt: int) -> None:
        self._mark(change, f"attempt:{attempt}")

    def refused(self, change: RuleChange, attempt: int) -> None:
        self._mark(change, f"refused:{attempt}")

    def done(self, change: RuleChange, status: RemediationStatus) -> None:
        self._mark(change, f"done:{status}")

    def _mark(self, change: RuleChange, fact: str) -> None:
        self._ledger.mark_sent(CHANNEL, _alert_id(change), (f"{change.rule_key}#{fact}",))
