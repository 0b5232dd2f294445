"""The long-lived part of the runtime: settings, policy, adapters and caches, built once per process.

A warm Lambda keeps one ``App`` across invocations; ``watch`` keeps one for its whole run. Everything
heavy (boto3, sqlite) is created on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sgwatch.errors import SgwatchError
from sgwatch.model import Alert, Delivery, Remediation, RemediationStatus, RuleChange
from sgwatch.policy import Policy, load_policy
from sgwatch.remediate.config import RemediationConfig, remediation_config
from sgwatch.runtime.clients import AwsClients
from sgwatch.runtime.logs import log_event
from sgwatch.runtime.reverts import RevertLog
from sgwatch.runtime.snapshots import RuleSnapshots
from sgwatch.settings import Settings
from sgwatch.sources import Problem, S3ObjectRef, SourceItem

if TYPE_CHECKING:
    from sgwatch.audit.store import AuditStore
    from sgwatch.enrich import Enricher, RuleFacts
    from sgwatch.notify import Notifier, SentLedger
    from sgwatch.notify.config import NotifyConfig
    from sgwatch.remediate import Reverter
    from sgwatch.sources.base import Blob, Skipped

EXECUTED = (RemediationStatus.REVERTED, RemediationStatus.RESTORED, RemediationStatus.ALREADY_REVERTED)


class App:
    """Everything one process needs to run batches through judge -> enrich -> remediate -> notify -> audit."""

    def __init__(
        self,
        *,
        settings: Settings,
        policy: Policy,
        remediation: RemediationConfig,
        clients: AwsClients,
        enricher: Enricher | None = None,
        reverter: Reverter | None = None,
        db_path: Path | None = None,
        own_session_names: Sequence[str] = (),
        own_account: str | None = None,
        now: Callable[[], datetime] | None = None,
        snapshots: RuleSnapshots | None = None,
        notify_config: NotifyConfig | None = None,
    ) -> None:
        self.settings = settings
        self.notify_config = notify_config  # parsed once by build_app; None: parsed at the first delivery
        self.policy = policy
        self.remediation = remediation
        self.clients = clients
        self.enricher = enricher
        self.reverter = reverter
        self.db_path = db_path
        self.own_session_names = tuple(own_session_names)
        self.own_account = own_account  # None: unknown (STS not asked or not reachable)
        self.now = now or utc_now
        self.snapshots = snapshots or RuleSnapshots()
        self._store: AuditStore | None = None
        self._ledger: SentLedger | None = None
        self._notifier: Notifier | None = None
        self._executed: set[tuple[str, str]] = set()

    # --- audit store and ledgers ------------------------------------------------------------

    @property
    def store(self) -> AuditStore | None:
        """The audit store when a db path is configured (opened on first use, kept open)."""
        if self._store is None and self.db_path is not None:
            from sgwatch.audit.store import AuditStore  # noqa: PLC0415 - sqlite only when configured

            self._store = AuditStore.open(self.db_path)
        return self._store

    @property
    def ledger(self) -> SentLedger:
        """What was already delivered: the audit store's ledger, else the DynamoDB table's
        (``settings.ledger_table``: shared by every Lambda container), else one kept in memory by this process."""
        if self._ledger is None:
            store = self.store
            if store is not None:
                from sgwatch.audit.ledger import SqliteSentLedger  # noqa: PLC0415

                self._ledger = SqliteSentLedger(store)
            elif self.settings.ledger_table:
                from sgwatch.notify.dynamodb_ledger import DynamoSentLedger  # noqa: PLC0415

                clients = self.clients
                self._ledger = DynamoSentLedger(self.settings.ledger_table, lambda: clients.client("dynamodb"))
            else:
                from sgwatch.notify import MemoryLedger  # noqa: PLC0415

                self._ledger = MemoryLedger()
        return self._ledger

    @property
    def notifier(self) -> Notifier:
        """The channels, built on the first delivery and kept: config parsed once, connections, AWS clients
        and secrets (for ``delivery.secret_max_age``) reused by every later batch and warm invocation."""
        if self._notifier is None:
            from sgwatch.notify.notifier import Notifier  # noqa: PLC0415 - channels load their own clients

            self._notifier = Notifier(self.settings, config=self.notify_config, ledger=self.ledger)
        return self._notifier

    @property
    def reverts(self) -> RevertLog:
        """What became of each revert (attempts, refusals, outcomes), kept in the sent ledger: shared by every
        container when it is the DynamoDB table or the audit database."""
        return RevertLog(self.ledger)

    def deliver(self, alerts: Sequence[Alert], *, time_left: float | None = None) -> tuple[Delivery, ...]:
        """Send ``alerts``; with ``time_left``, no request starts unless it can end within that many seconds."""
        return self.notifier.deliver(alerts, time_left=time_left)

    def already_executed(self, change: RuleChange) -> bool:
        """This process, or the audit store, knows the change was reverted or restored for real (never a dry
        run); the revert log (``reverts``) is asked separately."""
        if change.dedup_key in self._executed:
            return True
        store = self.store
        return store is not None and store.executed_remediation(change.event_id, change.rule_key)

    def previous_definition(self, change: RuleChange) -> RuleChange | None:
        """The rule's definition before ``change``: the audit trail first, else this process's snapshots."""
        if not change.rule_id:
            return None
        store = self.store
        if store is not None and change.group_id:
            try:
                found = store.rule_before(change.group_id, change.rule_id, change.event_time, event_id=change.event_id)
            except SgwatchError as exc:
                log_event(logging.ERROR, "audit_read_failed", detail=str(exc), event_id=change.event_id)
                found = None
            if found is not None:
                return found
        return self.snapshots.before(change.rule_id, change.event_time)

    def record_remediation(self, change: RuleChange, remediation: Remediation, previous: RuleChange | None) -> None:
        """Remember an outcome: executed reverts count for replay protection, dry-run plans never do."""
        if not remediation.dry_run and remediation.status in EXECUTED:
            self._executed.add(change.dedup_key)
            restored = previous if remediation.status is RemediationStatus.RESTORED else None
            if restored is not None:
                self.snapshots.remember(restored, self.now())
            if change.rule_id:
                self.snapshots.changed(change.rule_id, restored)
        store = self.store
        if store is not None:
            try:
                store.record_remediation(change, remediation)
            except SgwatchError as exc:
                log_event(logging.ERROR, "audit_write_failed", detail=str(exc), event_id=change.event_id)

    # --- S3 objects ----------------------------------------------------------------------------

    def download(self, ref: S3ObjectRef) -> Blob | Problem:
        """The bytes of one S3 object (an S3 notification), or a Problem naming ``s3://bucket/key``."""
        from sgwatch.sources.s3 import fetch_object  # noqa: PLC0415

        return fetch_object(self.clients.client("s3"), ref.bucket, ref.key, item_id=ref.item_id)

    def read(self, blob: Blob, skipped: Skipped) -> Iterator[SourceItem]:
        """The records of a downloaded object that can be security-group changes, by the fast path when
        installed; the others are counted in ``skipped``."""
        from sgwatch.sources.files import read_data  # noqa: PLC0415

        return read_data(blob.data, blob.origin, item_id=blob.item_id, skipped=skipped)

    def close(self) -> None:
        """Close the notifier's connections and the audit store; a later batch opens them again."""
        if self._notifier is not None:
            self._notifier.close()
            self._notifier = None
        if self._store is not None:
            self._store.close()
            self._store = None
            self._ledger = None


def own_role_patterns(caller_arn: str) -> tuple[str, ...]:
    """ARN globs for the role behind ``sts:GetCallerIdentity``'s ARN (its sessions and the role itself)."""
    parts = caller_arn.split(":", 5)
    if len(parts) < 6 or not parts[5].startswith("assumed-role/"):
        return (caller_arn,)
    partition, account = parts[1], parts[4]
    role = parts[5].split("/")[1]
    return (
        f"arn:{partition}:sts::{account}:assumed-role/{role}/*",
        f"arn:{partition}:iam::{account}:role/{role}",
        f"arn:{partition}:iam::{account}:role/*/{role}",
    )


def discover_identity(clients: AwsClients) -> tuple[str | None, tuple[str, ...]]:
    """sgwatch's own account and role (ARN globs for the loop guard), from STS; unknown (None, ()) with a
    warning when STS cannot tell."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        identity = clients.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        log_event(logging.WARNING, "identity_unknown", detail=f"sts:GetCallerIdentity failed: {exc}")
        return None, ()
    return str(identity["Account"]), own_role_patterns(str(identity["Arn"]))


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_app(
    settings: Settings,
    *,
    policy_path: Path | None = None,
    enrich: bool | None = None,
    db_path: Path | None = None,
    clients: AwsClients | None = None,
    own_session_names: Sequence[str] = (),
    discover: bool = True,
) -> App:
    """An App from settings: policy loaded, remediation and notify parsed (``ConfigError``), adapters wired.

    ``enrich`` overrides ``settings.enrich``. When enrichment or remediation is on and ``discover`` is true,
    sgwatch's own account and role are looked up once (STS): changes in other accounts are neither
    described nor reverted, and the own role joins the loop guard.
    """
    from sgwatch.notify.config import parse_notify  # noqa: PLC0415 - channel config only, no channel code

    clients = clients or AwsClients()
    policy = load_policy(policy_path or settings.policy_path)
    remediation = remediation_config(settings)
    notify_config = parse_notify(settings)  # a bad ``notify:`` section fails the cold start, not the first alert
    snapshots = RuleSnapshots()
    enrich = settings.enrich if enrich is None else enrich
    account = None
    if discover and (enrich or remediation.enabled):
        account, roles = discover_identity(clients)
        remediation = replace(remediation, own_role_arns=(*remediation.own_role_arns, *roles))
    enricher = None
    if enrich:
        from sgwatch.enrich import Enricher  # noqa: PLC0415
        from sgwatch.enrich.aws import Boto3Describer  # noqa: PLC0415
        from sgwatch.enrich.merge import rule_as_change  # noqa: PLC0415

        def remember(change: RuleChange, facts: RuleFacts) -> None:
            snapshots.described(rule_as_change(change, facts), utc_now())

        enricher = Enricher(Boto3Describer(clients.for_service("ec2")), on_rule=remember, account_id=account)
    reverter = None
    if remediation.enabled:
        from sgwatch.remediate.revoke import Ec2Reverter  # noqa: PLC0415

        reverter = Ec2Reverter(clients.for_service("ec2"))
    return App(
        settings=settings,
        policy=policy,
        remediation=remediation,
        clients=clients,
        enricher=enricher,
        reverter=reverter,
        db_path=db_path or settings.db_path,
        own_session_names=own_session_names,
        own_account=account,
        now=utc_now,
        snapshots=snapshots,
        notify_config=notify_config,
    )
