"""Safe reading of YAML files written by people: case files, scenarios and priors.

Only plain data is accepted: ``yaml.SafeLoader`` (no Python objects), no aliases
(a ``*ref`` can multiply a small file into a huge document), no duplicate keys (the
second would silently replace the first), and a size limit. Every failure becomes
the caller's error class with the file name and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1_000_000


class _StrictLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted; write the value out", event.start_mark)
        return super().compose_node(parent, index)


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, got {type(key).__name__}", key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: Path | str, error: type[Exception], what: str = "file") -> Any:
    """Read one YAML document safely; raise ``error`` with a plain message on any problem."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: {what} not found.")
    if path.is_dir():
        raise error(f"{path}: is a folder, expected a YAML {what}.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise error(f"{path}: {what} is {size:,} bytes; the limit is {MAX_BYTES:,}.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    return parse_yaml(text, error, str(path))


def parse_yaml(text: str, error: type[Exception], name: str = "<text>") -> Any:
    """Parse YAML text safely (see the module docstring)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise error(f"{name}: more than {MAX_BYTES:,} bytes of YAML.")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{name}: not valid YAML{where}: {problem}.") from None
    except RecursionError:
        raise error(f"{name}: the YAML is nested too deeply.") from None
