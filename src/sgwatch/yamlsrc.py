"""YAML loading that remembers where every key came from, for errors like ``policy.yaml:14: …``.

``load_yaml`` returns plain dicts/lists/scalars; mappings are ``Node`` (a dict subclass) that know the
file, their own line and each key's line, so validators can say exactly where a bad value stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml

# What PyYAML's scalar constructors raise for text their tag cannot hold (an explicit ``!!timestamp foo``
# even raises AttributeError); a YAMLError instead is reported by the loader itself, with its line.
SCALAR_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


class Node(dict[str, Any]):
    """A YAML mapping that remembers its source position and each key's line (1-based)."""

    source: str
    line: int
    key_lines: dict[str, int]

    def where(self, key: str | None = None) -> str:
        """``file:line`` of ``key`` (or of the mapping itself)."""
        line = self.key_lines.get(key, self.line) if key is not None else self.line
        return f"{self.source}:{line}"


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    loader.flatten_mapping(node)
    out = Node()
    out.source = getattr(loader, "_sgwatch_source", "<yaml>")
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_text(text: str, source: str, error: Callable[[str], Exception]) -> Any:
    """Parse YAML text; syntax errors become ``error("file:line: …")``."""
    loader = _Loader(text)
    loader._sgwatch_source = source  # type: ignore[attr-defined]
    try:
        return loader.get_single_data()
    except SCALAR_ERRORS as exc:  # PyYAML could not build a value (``2027-02-30``) and names no line: find it
        from sgwatch.yamlscalars import find_bad_scalar  # noqa: PLC0415 - only when a value cannot be built

        bad = find_bad_scalar(text)
        if bad is None:
            raise error(f"{source}: invalid YAML: {exc}") from None
        raise error(f"{source}:{bad.line}: {bad.describe()}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise error(f"{source}{line}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def load_yaml(path: Path, error: Callable[[str], Exception]) -> Any:
    """Read and parse a YAML file; unreadable files and syntax errors raise ``error`` with the path."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    return load_yaml_text(text, str(path), error)


def check_keys(node: Node, allowed: Iterable[str], what: str, error: Callable[[str], Exception]) -> None:
    """Fail on the first unknown key: ``file:line: <what>: unknown key 'prots' (expected: a, b)``."""
    allowed = list(allowed)
    for key in node:
        if key not in allowed:
            raise error(f"{node.where(key)}: {what}: unknown key {key!r} (expected: {', '.join(allowed)})")


def fail(node: Node, key: str | None, message: str, error: Callable[[str], Exception]) -> NoReturn:
    """Raise ``error`` positioned at ``key`` of ``node``."""
    raise error(f"{node.where(key)}: {message}")
