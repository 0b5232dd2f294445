"""Channel filters, duplicate records and the burst guard (pure parts; the sent ledgers are tested in
tests/e2e/notify/test_sent_ledger_contract.py)."""

from __future__ import annotations

import dataclasses
from types import ModuleType

from sgwatch.model import Severity
from sgwatch.notify.config import ConsoleConfig
from sgwatch.notify.fields import BurstGuard
from sgwatch.notify.outcome import Digest
from sgwatch.notify.routing import fold_bursts, merge_duplicates, select


def channel(**over: object) -> ConsoleConfig:
    return ConsoleConfig(name="c", type="console", **over)  # type: ignore[arg-type]


def test_duplicate_records_merge_into_one_alert(alerts: ModuleType) -> None:
    alert = alerts.multi_rule()
    first_two = dataclasses.replace(alert, judgements=alert.judgements[:2])
    last_three = dataclasses.replace(alert, judgements=alert.judgements[1:])
    merged = merge_duplicates([first_two, alerts.critical_ssh(), last_three, first_two])
    assert [a.alert_id for a in merged] == [alert.alert_id, alerts.critical_ssh().alert_id]
    assert [j.change.rule_key for j in merged[0].judgements] == ["sgr-01", "sgr-02", "sgr-03", "sgr-04"]


def test_filters_threshold_accounts_regions_findings(alerts: ModuleType) -> None:
    alert = alerts.multi_rule()  # critical, high, low, medium
    part, _ = select(alert, channel(min_severity=Severity.HIGH))
    assert part is not None
    assert [j.severity for j in part.judgements] == [Severity.CRITICAL, Severity.HIGH]
    part, why = select(alert, channel(min_severity=Severity.HIGH, accounts=("999999999999",)))
    assert part is None
    assert why == "filtered: account 111122223333 not in the channel's accounts"
    part, why = select(alert, channel(regions=("us-east-1",)))
    assert part is None
    assert "region eu-west-1" in why
    part, _ = select(alert, channel(min_severity=Severity.INFO, findings=("PUBLIC_HOST_ADMIN_PORT_INGRESS",)))
    assert part is not None
    assert [j.change.rule_id for j in part.judgements] == ["sgr-03"]
    part, why = select(alert, channel(findings=("NOPE",)))
    assert part is None
    assert why == "filtered: no rule raised one of the channel's findings"
    low = alerts.alert_of(alerts.judgement(alerts.change(), alerts.WIDE_RANGE))
    assert select(low, channel())[1] == "filtered: severity low below high"
    assert select(alert, channel(min_severity=Severity.INFO))[0] is alert


def test_suppressed_judgements_are_not_sent(alerts: ModuleType) -> None:
    c = alerts.change()
    alert = alerts.alert_of(alerts.judgement(c, alerts.SSH_WORLD, suppressed=True))
    assert select(alert, channel(min_severity=Severity.INFO))[0] is None


def test_burst_guard_folds_only_the_crowded_window(alerts: ModuleType) -> None:
    crowded = alerts.burst(15, step=1.0)  # 15 alerts in 15 s
    later = [dataclasses.replace(a, event_time=a.event_time.replace(hour=13)) for a in alerts.burst(2)]
    later = [dataclasses.replace(a, event_id=f"late-{i}") for i, a in enumerate(later)]
    messages = fold_bursts(crowded + later, BurstGuard(max_alerts=10, window=60.0))
    assert len(messages) == 3
    digest = messages[0]
    assert isinstance(digest, Digest)
    assert len(digest.alerts) == 15
    assert digest.digest_id.startswith("digest:")
    assert [m.event_id for m in messages[1:]] == ["late-0", "late-1"]  # type: ignore[union-attr]


def test_burst_guard_leaves_sparse_alerts_alone(alerts: ModuleType) -> None:
    sparse = alerts.burst(30, step=10.0)  # 6 per minute
    assert fold_bursts(sparse, BurstGuard(max_alerts=10, window=60.0)) == tuple(sparse)
    assert fold_bursts(alerts.burst(50), None) == tuple(alerts.burst(50))
