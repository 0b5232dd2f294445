"""Find the YAML value PyYAML cannot build, with its line: an impossible date (``2027-02-30``), a bad ``!!int``.

PyYAML reads an unquoted ``2027-02-30`` as a timestamp and fails with a bare ``ValueError`` that names no
line. :func:`find_bad_scalar` composes the text again (nodes only, no values built), then builds each scalar
alone, so ``yamlsrc`` can name the file, the line and the key (config, policy, any YAML sgwatch reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from sgwatch.yamlsrc import SCALAR_ERRORS

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
DATE_KEYS = ("expires",)  # keys that hold dates (policy allowlists): quoting one there does not fix it
_KINDS = {
    _TIMESTAMP: "a date or time",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BadScalar:
    """A scalar whose tag (implicit or written) cannot hold its text."""

    line: int  # 1-based
    key: str  # where in the document: ``allowlist[0]: expires``
    text: str  # as written
    tag: str
    problem: str  # why it cannot be built: ``day is out of range for month``

    def describe(self) -> str:
        """``allowlist[0]: expires: 2027-02-30 is not a real date or time (day is out of range for month); …``."""
        where = f"{self.key}: " if self.key else ""
        if self.tag == _TIMESTAMP:
            text_too = "" if self.key.endswith(DATE_KEYS) else ", or quote it if it is text"
            return f"{where}{self.text} is not a real date or time ({self.problem}); write a valid one like 2027-01-31{text_too}"
        kind = _KINDS.get(self.tag, f"the tag {self.tag}")
        return f"{where}{self.text!r} cannot be read as {kind} ({self.problem})"


def _scalars(node: yaml.Node, key: str, seen: set[int]) -> Iterator[tuple[str, yaml.ScalarNode]]:
    """Every scalar under ``node`` (mapping keys too) with the key path that leads to it; aliases once."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            yield from _scalars(key_node, key, seen)
            yield from _scalars(value_node, f"{key}: {name}" if key else name, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, f"{key}[{index}]", seen)
    elif isinstance(node, yaml.ScalarNode):
        yield key, node


def _problem(tag: str, exc: Exception) -> str:
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    if tag == _TIMESTAMP:
        return "expected the form 2027-01-31 or 2027-01-31T10:00:00Z"
    return "not written as one"


def find_bad_scalar(text: str) -> BadScalar | None:
    """The first scalar of the YAML ``text`` that PyYAML's safe constructors cannot build, if any."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None  # the loader reports syntax errors itself
    if root is None:
        return None
    constructor = yaml.constructor.SafeConstructor()
    for key, node in _scalars(root, "", set()):
        try:
            constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            continue  # an unknown tag, a merge key: the loader's own business
        except SCALAR_ERRORS as exc:
            return BadScalar(
                line=node.start_mark.line + 1,
                key=key,
                text=str(node.value),
                tag=str(node.tag),
                problem=_problem(str(node.tag), exc),
            )
    return None
