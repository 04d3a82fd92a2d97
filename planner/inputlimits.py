"""Bounded reading of input text (scenarios in YAML, scenario and plan files in JSON).

A scenario may come from anyone who can upload one, so reading it must cost time and
memory in proportion to its size. YAML aliases break that proportion: ``*a`` repeats the
whole node ``&a`` names, so a few kilobytes of nested aliases stand for gigabytes of data
once anything walks them (a validation, an error message, a copy). :func:`load_yaml` reads
with the safe loader and refuses, with the line and column, a text that is

* larger than :attr:`InputLimits.max_bytes`;
* nested deeper than :attr:`InputLimits.max_depth` (no recursion on user structure);
* holding more than :attr:`InputLimits.max_aliases` aliases, or more than
  :attr:`InputLimits.max_nodes` values or :attr:`InputLimits.max_chars` characters of text
  *after* every alias is expanded (so aliases can never make a text bigger than the limits
  a text without them has), or an alias inside the node it names (a cycle);
* repeating a key of a mapping (YAML's own rule, which PyYAML does not enforce: the last
  one would win silently).

:func:`load_json` applies the same size, depth and count limits to JSON and refuses
``NaN``, ``Infinity`` and repeated keys. Both raise :class:`InputLimitError`, which callers
turn into their own error (a :class:`~planner.errors.ScenarioError` naming the file, for
instance).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.error import MarkedYAMLError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class InputLimits:
    """How much one input text may hold."""

    max_bytes: int  # the text, in bytes of UTF-8
    max_depth: int = 32  # nesting of lists and mappings
    max_nodes: int = 200_000  # values (scalars, lists, mappings), aliases expanded
    max_chars: int | None = None  # characters of scalar text, aliases expanded (max_bytes)
    max_aliases: int = 5_000

    @property
    def chars(self) -> int:
        return self.max_chars if self.max_chars is not None else self.max_bytes


class InputLimitError(ValueError):
    """An input text is refused; ``line`` and ``column`` (1-based) say where, when known."""

    def __init__(self, message: str, *, line: int | None = None,
                 column: int | None = None) -> None:
        self.message, self.line, self.column = message, line, column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{message}{where}")


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_limited(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of the file at ``path``, reading no more than ``max_bytes`` + 1 (so a huge
    file or a device never fills memory); :class:`InputLimitError` when it is larger.
    ``OSError`` as :func:`open` raises it."""
    with Path(path).open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputLimitError(f"the file is larger than {_size_text(max_bytes)}")
    return data


def _check_size(text: str | bytes, limits: InputLimits) -> str:
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            raise InputLimitError(f"the text is larger than {_size_text(limits.max_bytes)}")
        return text.decode("utf-8")  # UnicodeDecodeError for the caller
    if len(text) > limits.max_bytes or len(text.encode("utf-8", "surrogatepass")) > \
            limits.max_bytes:
        raise InputLimitError(f"the text is larger than {_size_text(limits.max_bytes)}")
    return text


try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # a PyYAML built without libyaml (its wheels have it): PyYAML's own
    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _BoundedLoader(Composer, _Parser, SafeConstructor, Resolver):
    """PyYAML's safe loader counting depth, aliases, and the values and characters of the
    document with every alias expanded (a node's expanded size is computed once, when it is
    composed, so the count costs time in proportion to the text). The text is scanned and
    parsed by libyaml (PyYAML's ``CParser``: a scenario page reads every scenario of the
    folder, ~5x faster than PyYAML's own parser), the nodes composed here, where they are
    counted."""

    def __init__(self, stream: str, limits: InputLimits) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self._depth = 0
        self._aliases = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, characters)

    def _refuse(self, message: str, mark: Any = None) -> InputLimitError:
        if mark is None:
            return InputLimitError(message)
        return InputLimitError(message, line=mark.line + 1, column=mark.column + 1)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        assert event is not None  # (a node's event: the composer asks for one only then)
        mark = event.start_mark
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self.limits.max_aliases:
                raise self._refuse(f"more than {self.limits.max_aliases:,} aliases (*name)",
                                   mark)
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:
                raise self._refuse("an alias (*name) inside the node it names (a cycle)", mark)
            return node
        self._depth += 1
        if self._depth > self.limits.max_depth:
            raise self._refuse(f"nested deeper than {self.limits.max_depth} levels", mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._measure(node)
        return node

    def _measure(self, node: Node) -> None:
        values, chars = 1, 0
        if isinstance(node, ScalarNode):
            chars = len(node.value)
        else:
            children: list[Node] = []
            if isinstance(node, SequenceNode):
                children = node.value
            elif isinstance(node, MappingNode):
                self._unique_keys(node)
                children = [n for pair in node.value for n in pair]
            for child in children:
                v, c = self._sizes[id(child)]
                values, chars = values + v, chars + c
        self._sizes[id(node)] = (values, chars)
        if values > self.limits.max_nodes:
            raise self._refuse(f"more than {self.limits.max_nodes:,} values (aliases "
                               "expanded)", node.start_mark)
        if chars > self.limits.chars:
            raise self._refuse(f"more than {_size_text(self.limits.chars)} of text (aliases "
                               "expanded)", node.start_mark)

    def _unique_keys(self, node: MappingNode) -> None:
        """Refuse a key written twice in one mapping (YAML forbids it; PyYAML would keep the
        last one silently). Keys merged in with ``<<:`` may be overridden, as YAML allows."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: the constructor reports it
                continue
            if first is not None:
                raise self._refuse(f"the key {str(key)[:40]!r} is repeated (first at line "
                                   f"{first}); a key may appear once in a mapping",
                                   key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1


def load_yaml(text: str | bytes, limits: InputLimits) -> Any:
    """The data of a YAML text, read within ``limits``. Raises :class:`InputLimitError` (a
    limit, a repeated key), ``yaml.YAMLError`` (the syntax), ``UnicodeDecodeError`` (bytes
    that are not UTF-8) or ``ValueError`` (a value YAML cannot hold, e.g. a date 2026-13-40
    or an integer of thousands of digits)."""
    stream = _check_size(text, limits)
    loader = _BoundedLoader(stream, limits)
    try:
        return loader.get_single_data()
    except MarkedYAMLError as exc:
        if "maximum nesting depth" not in str(exc.problem):
            raise
        # libyaml scans ahead, and refuses nesting past its own bound (1000 levels) before
        # the composer counts past the limit: the same refusal
        raise loader._refuse(f"nested deeper than {limits.max_depth} levels",
                             exc.problem_mark) from None
    except OverflowError as exc:  # a timestamp beyond what datetime holds
        raise ValueError(str(exc)) from None
    finally:
        loader.dispose()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:40]!r} is repeated in an object")
        out[key] = value
    return out


def load_json(text: str | bytes, limits: InputLimits) -> Any:
    """The data of a JSON text, read within ``limits`` (size, depth, values, characters);
    ``NaN``, ``Infinity`` and a key repeated in an object are refused. Raises
    :class:`InputLimitError` or ``ValueError`` (syntax, encoding, those values)."""
    stream = _check_size(text, limits)
    try:
        data = json.loads(stream, parse_constant=_refuse_constant,
                          object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise InputLimitError(f"nested deeper than {limits.max_depth} levels") from None
    values, chars = 0, 0
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:  # no recursion on the structure
        item, depth = pending.pop()
        values += 1
        if depth > limits.max_depth:
            raise InputLimitError(f"nested deeper than {limits.max_depth} levels")
        if values > limits.max_nodes:
            raise InputLimitError(f"more than {limits.max_nodes:,} values")
        if isinstance(item, dict):
            for key, value in item.items():
                chars += len(key)
                pending.append((value, depth + 1))
        elif isinstance(item, list):
            pending.extend((value, depth + 1) for value in item)
        elif isinstance(item, str):
            chars += len(item)
    if chars > limits.chars:
        raise InputLimitError(f"more than {_size_text(limits.chars)} of text")
    return data


__all__ = ["InputLimitError", "InputLimits", "load_json", "load_yaml", "read_limited"]
