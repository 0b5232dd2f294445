"""cfn-lint over every template variant: zero errors and zero warnings."""

from __future__ import annotations

from cfnlint.api import lint

from sgwatch.deploy.template import TemplateOptions, build_template, render_template


def test_cfn_lint_is_clean(variant: tuple[str, TemplateOptions]) -> None:
    _, options = variant
    matches = lint(render_template(build_template(options), "yaml"))
    assert [str(m) for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    doc = build_template(TemplateOptions(org_member="arn:aws:events:us-east-1:111122223333:event-bus/default",
                                         existing_trail=True))  # fmt: skip
    doc["Resources"]["ForwardRule"]["Properties"]["Targets"][0]["RoleArn"] = {"Fn::GetAtt": ["Missing", "Arn"]}
    rules = {m.rule.id for m in lint(render_template(doc, "yaml"))}
    assert "E1010" in rules
