"""Fixtures for the deploy unit tests: every template variant and golden-file comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sgwatch.deploy.template import TemplateOptions

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "deploy"
CENTRAL_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/default"

VARIANTS: dict[str, TemplateOptions] = {
    "default": TemplateOptions(),
    "remediation": TemplateOptions(remediation=True),
    "existing_trail": TemplateOptions(existing_trail=True),
    "cis_alarm": TemplateOptions(cis_alarm=True),
    "existing_trail_cis_alarm": TemplateOptions(existing_trail=True, cis_alarm=True),
    "all_central": TemplateOptions(remediation=True, cis_alarm=True),
    "org_member": TemplateOptions(org_member=CENTRAL_BUS),
    "org_member_existing_trail": TemplateOptions(org_member=CENTRAL_BUS, existing_trail=True),
}
CENTRAL = {name: o for name, o in VARIANTS.items() if o.org_member is None}
MEMBER = {name: o for name, o in VARIANTS.items() if o.org_member is not None}


@pytest.fixture
def golden_json(golden_file: Callable[[Path, Any], None]) -> Callable[[str, Any], None]:
    """Compare a value with tests/golden/deploy/<name> as sorted, indented JSON (regenerate with the env flag)."""
    return lambda name, value: golden_file(GOLDEN / name, value)


@pytest.fixture
def golden_text(golden_file: Callable[[Path, Any], None]) -> Callable[[str, str], None]:
    """Compare text with tests/golden/deploy/<name> (regenerate with SGWATCH_REGEN_GOLDEN=1)."""
    return lambda name, text: golden_file(GOLDEN / name, text)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``variant`` / ``central`` / ``member`` parameters: (name, TemplateOptions) for each template variant."""
    for argname, table in (("variant", VARIANTS), ("central", CENTRAL), ("member", MEMBER)):
        if argname in metafunc.fixturenames:
            metafunc.parametrize(argname, list(table.items()), ids=list(table))


@pytest.fixture
def central_bus() -> str:
    """The central event bus ARN the member variants forward to."""
    return CENTRAL_BUS
