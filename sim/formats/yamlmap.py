"""Safe YAML loading that remembers where every key and item came from.

PyYAML's ``safe_load`` forgets line numbers and silently keeps the last of two duplicate keys.
Here the document is composed into nodes with the safe loader, then built by hand, so that
each key path maps to its line and duplicate keys are reported rather than overwritten.
Only the safe tags are constructed: a ``!!python/...`` tag is an error, never code.

Hostile documents are refused before they can exhaust the stack or memory: nesting deeper
than :data:`MAX_DEPTH` levels, and more than :data:`MAX_NODES` keys and items once aliases are
expanded (each use of an alias counts its whole content again, so a "billion laughs" file stops
after that many). A scalar the safe constructor cannot build (a date such as ``2019-13-45``, an
offset such as ``+99:00``, an integer of thousands of digits) is a located error too, and so
is a YAML 1.1 base-60 number (``1:30``, which PyYAML reads as 90).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_DEPTH = 100  # levels of nesting; the shipped files use fewer than 10
MAX_NODES = 100_000  # keys and items after alias expansion; a scenario has about 1,000
DATE_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]+HH:MM (a real calendar date, offset under 24 h)"


class YamlError(Exception):
    """A YAML problem with the key path and 1-based line where it was found. ``quotes`` is
    False for the messages that show nothing of the document but the path (a bound exceeded,
    a forbidden character)."""

    def __init__(self, message: str, path: Path = (), line: int | None = None,
                 quotes: bool = True):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.quotes = quotes


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return its data and a map from key path to line number."""
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (NUL, control codes)
        line = text.count("\n", 0, exc.position) + 1
        raise YamlError(f"character #x{exc.character:04x} is not allowed in a YAML file; "
                        "expected plain text", (), line, quotes=False) from None
    lines: dict[Path, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlError("the file is empty; expected a mapping of scenario keys", (), 1,
                            quotes=False)
        lines[()] = node.start_mark.line + 1
        return _Builder(loader, lines).build(node, ()), lines
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


def _too_deep(path: Path, line: int | None) -> YamlError:
    # the path is cut short: a hundred levels of it would not help the reader
    return YamlError(
        f"nested more than {MAX_DEPTH} levels deep (or an alias that contains itself); "
        "expected a shallow mapping of keys",
        path[:3],
        line,
        quotes=False,
    )


def _too_many(path: Path, line: int | None) -> YamlError:
    return YamlError(
        f"the document holds more than {MAX_NODES} keys and items (counting every use of an "
        "alias in full); expected a scenario-sized file",
        path[:3],
        line,
        quotes=False,
    )


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing a document nested deeper than MAX_DEPTH or with more than
    MAX_NODES nodes while composing it, before PyYAML's recursion or memory runs out."""

    def __init__(self, text: str):
        super().__init__(text)
        self._path: list[str | int] = []
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # ``index`` is the key node of a mapping value, the position of a sequence item, and
        # None for the document and for mapping keys
        line = self.peek_event().start_mark.line + 1
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _too_many(tuple(self._path), line)
        step: list[str | int] = []
        if isinstance(index, int):
            step = [index]
        elif isinstance(index, yaml.ScalarNode):
            step = [index.value]
        self._path.extend(step)
        try:
            if len(self._path) > MAX_DEPTH:
                raise _too_deep(tuple(self._path), line)
            return super().compose_node(parent, index)
        finally:
            del self._path[len(self._path) - len(step):]


_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class _Builder:
    """Builds plain Python data from composed nodes, recording each key path's line, and counts
    what it builds: an alias is built again at every use, so the count bounds its expansion."""

    def __init__(self, loader: yaml.SafeLoader, lines: dict[Path, int]):
        self.loader, self.lines, self.built = loader, lines, 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.built += 1
        if self.built > MAX_NODES:
            raise _too_many(path, line)
        if len(path) > MAX_DEPTH:
            raise _too_deep(path, line)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
            raise YamlError(f"unsupported YAML tag {node.tag!r} (only plain data is allowed)", path, line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item_node in enumerate(node.value):
                self.lines[path + (index,)] = item_node.start_mark.line + 1
                items.append(self.build(item_node, path + (index,)))
            return items
        return _scalar(self.loader, node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, path)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlError(f"keys must be text, got {key!r}", path, line)
            if key in result:
                raise YamlError(f"duplicate key '{key}'", path + (key,), line)
            self.lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,))
        return result


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode, path: Path) -> Any:
    """One scalar, or a located error for a tag outside plain data, a YAML 1.1 base-60
    number, or a value that the safe constructor cannot build (an impossible date, a number
    too long to read)."""
    line = node.start_mark.line + 1
    if node.tag in _NUMBER_TAGS and ":" in node.value:
        raise YamlError(_sexagesimal(loader, node), path, line)
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise YamlError(
            f"unsupported YAML tag {node.tag!r} (only plain data is allowed)", path, line
        ) from exc
    except (ValueError, OverflowError) as exc:
        raise YamlError(_unbuildable(node, exc), path, line) from None


def _sexagesimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    """YAML 1.1 reads ``1:30`` as the base-60 number 90: refused, never guessed."""
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    try:
        read_as = f" (it would be read as {loader.construct_object(node, deep=True):g})"
    except (ValueError, OverflowError):  # too many digits to read at all
        read_as = ""
    return (f"{shown!r} is a YAML 1.1 base-60 number{read_as}; expected a plain number (1.5 "
            "for an hour and a half), or text in quotes")


def _unbuildable(node: yaml.ScalarNode, exc: Exception) -> str:
    """What is wrong with a scalar the constructor refused, in the file's terms."""
    if node.tag == "tag:yaml.org,2002:timestamp":
        reason = str(exc)
        if reason.startswith("offset"):
            reason = "the offset must lie strictly between -24:00 and +24:00"
        return f"not a valid date/time {node.value!r} ({reason}); expected {DATE_FORMS}"
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    if node.tag == "tag:yaml.org,2002:int":
        return f"cannot read {shown!r} as a number (too many digits); expected an ordinary number"
    return f"cannot read the value {shown!r} ({exc})"


def line_for(lines: dict[Path, int], path: Path) -> int | None:
    """Line of the deepest known prefix of ``path`` (the closest place the file can show)."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


# C0 and C1 control codes (ESC, BEL, CR, newline, ...), DEL, the line and paragraph separators
# and the bidirectional overrides: none may reach a terminal from a file, a key or a value
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with every control code written as an escape (``\\x1b``, ``\\n``): a message
    stays one line and cannot move the cursor, set the title or clear the screen."""
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        code = ord(char)
        return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _UNPRINTABLE.sub(escape, text)


def format_path(path: Path) -> str:
    """Render a key path as ``a.b[2].c``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"
