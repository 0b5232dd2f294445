"""A YAML value PyYAML cannot build (``2027-02-30``, ``!!int x``) is a one-line error naming file, line and key,
in every YAML sgwatch reads: the config as well as the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from sgwatch.errors import ConfigError
from sgwatch.settings import load_settings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("enrich: !!int x\n", "cfg.yaml:1: enrich: 'x' cannot be read as an integer"),
        (
            "notify:\n  - type: console\n    min_severity: 2027-02-30\n",
            "cfg.yaml:3: notify[0]: min_severity: 2027-02-30 is not a real date or time (day is out of range for "
            "month); write a valid one like 2027-01-31, or quote it if it is text",
        ),
    ],
)
def test_a_value_yaml_cannot_build_names_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert str(caught.value).startswith(f"{tmp_path / message}")
