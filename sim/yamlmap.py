"""Safe YAML loading that remembers where every key and item came from.

PyYAML's ``safe_load`` forgets line numbers and silently keeps the last of two duplicate keys.
Here the document is composed into nodes with the safe loader, then built by hand, so that
each key path maps to its line and duplicate keys are reported rather than overwritten.
Only the safe tags are constructed: a ``!!python/...`` tag is an error, never code.
"""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlError(Exception):
    """A YAML problem with the key path and 1-based line where it was found."""

    def __init__(self, message: str, path: Path = (), line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return its data and a map from key path to line number."""
    loader = yaml.SafeLoader(text)
    lines: dict[Path, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlError("the file is empty; expected a mapping of scenario keys", (), 1)
        lines[()] = node.start_mark.line + 1
        return _build(loader, node, (), lines), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}; {problem}"
        raise YamlError(f"YAML syntax error: {problem}", (), mark.line + 1 if mark else None)
    except yaml.YAMLError as exc:  # unmarked errors (e.g. reader errors on bad bytes)
        raise YamlError(f"YAML error: {exc}", (), None)
    finally:
        loader.dispose()


_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
        raise YamlError(
            f"unsupported YAML tag {node.tag!r} (only plain data is allowed)",
            path,
            node.start_mark.line + 1,
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _build(loader, key_node, path, lines)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlError(f"keys must be text, got {key!r}", path, line)
            if key in result:
                raise YamlError(f"duplicate key '{key}'", path + (key,), line)
            lines[path + (key,)] = line
            result[key] = _build(loader, value_node, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            lines[path + (index,)] = item_node.start_mark.line + 1
            items.append(_build(loader, item_node, path + (index,), lines))
        return items
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise YamlError(
            f"unsupported YAML tag {node.tag!r} (only plain data is allowed)",
            path,
            node.start_mark.line + 1,
        ) from exc


def line_for(lines: dict[Path, int], path: Path) -> int | None:
    """Line of the deepest known prefix of ``path`` (the closest place the file can show)."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def format_path(path: Path) -> str:
    """Render a key path as ``a.b[2].c``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"
