"""The ``remediate:`` section: defaults, values, and file:line errors."""

from __future__ import annotations

import pytest

from sgwatch.errors import ConfigError
from sgwatch.model import Severity
from sgwatch.remediate.config import RemediationConfig, remediation_config
from sgwatch.settings import load_settings_text


def _config(text: str) -> RemediationConfig:
    return remediation_config(load_settings_text(text, "config.yaml", environ={}))


def test_absent_section_means_disabled_and_dry_run() -> None:
    config = _config("enrich: false\n")
    assert (config.enabled, config.dry_run, config.min_severity) == (False, True, Severity.CRITICAL)


def test_values_are_read() -> None:
    config = _config(
        "remediate:\n  enabled: true\n  dry_run: false\n  min_severity: high\n"
        "  allowlist: ['arn:aws:iam::*:role/NetworkAdmin']\n  own_role_arns: arn:aws:iam::1:role/sgwatch\n"
    )
    assert config.enabled
    assert not config.dry_run
    assert config.min_severity is Severity.HIGH
    assert config.allowlist == ("arn:aws:iam::*:role/NetworkAdmin",)
    assert config.own_role_arns == ("arn:aws:iam::1:role/sgwatch",)
    assert config.where == "config.yaml:2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("remediate:\n  enabled: yes please\n", "config.yaml:2: remediate: enabled: expected true or false"),
        ("remediate:\n  enabeld: true\n", "config.yaml:2: remediate: unknown key 'enabeld' (expected: enabled,"),
        ("remediate:\n  min_severity: huge\n", "config.yaml:2: remediate: min_severity: unknown severity 'huge'"),
        (
            "remediate:\n  dry_run: true\n  allowlist: [NetworkAdmin]\n",
            "config.yaml:3: remediate: allowlist: 'NetworkAdmin' is not an ARN pattern",
        ),
        (
            "remediate:\n  own_role_arns: {a: 1}\n",
            "config.yaml:2: remediate: own_role_arns: expected a list of ARN patterns",
        ),
    ],
)
def test_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(text)
    assert str(caught.value).startswith(message)
