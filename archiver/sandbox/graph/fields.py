"""The ``fields=`` expansion syntax: parsing it into :class:`FieldSpec` trees and writing it back.

``id,comments.filter(stream).limit(100).summary(true){id,parent{id}},from.as(author)``: a
comma-separated list of fields, each with ``.modifier(argument)`` parts, an optional
``.as(alias)`` and nested ``{fields}``. Bad syntax raises Graph's error 2500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from archiver.sandbox.graph.errors import GraphError


@dataclass(frozen=True)
class FieldSpec:
    """One requested field: its name, modifiers such as ``limit(100)``, nested fields and alias."""

    name: str
    modifiers: Mapping[str, str] = field(default_factory=dict)
    children: tuple[FieldSpec, ...] | None = None
    alias: str | None = None

    @property
    def key(self) -> str:
        """Return the key the field has in the response (its alias, else its name)."""
        return self.alias or self.name


class _FieldParser:
    """Recursive-descent parser for the ``fields=`` expansion syntax."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def parse(self) -> tuple[FieldSpec, ...]:
        """Return every field of the source; raise GraphError unless all of it was read."""
        specs = self.fields()
        self.skip_space()
        if self.pos != len(self.source):
            raise self.error()
        return specs

    def error(self) -> GraphError:
        """Return the syntax error Graph reports at the current position."""
        found = self.source[self.pos] if self.pos < len(self.source) else "end of string"
        message = f'Syntax error "Expected end of string instead of "{found}"." at character {self.pos}: {self.source}'
        return GraphError(400, 2500, message)

    def skip_space(self) -> None:
        """Move past whitespace."""
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        """Return the next non-space character, or "" at the end."""
        self.skip_space()
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def expect(self, char: str) -> None:
        """Consume ``char`` or raise the syntax error."""
        if self.peek() != char:
            raise self.error()
        self.pos += 1

    def name(self) -> str:
        """Return the field or modifier name at the current position."""
        self.skip_space()
        start = self.pos
        while self.pos < len(self.source) and (
            self.source[self.pos].isalnum() or self.source[self.pos] == "_"
        ):
            self.pos += 1
        if start == self.pos:
            raise self.error()
        return self.source[start : self.pos]

    def fields(self) -> tuple[FieldSpec, ...]:
        """Return a comma-separated list of fields."""
        specs = [self.field()]
        while self.peek() == ",":
            self.pos += 1
            specs.append(self.field())
        return tuple(specs)

    def field(self) -> FieldSpec:
        """Return one field with its ``.modifier(arg)`` parts, ``.as(alias)`` and ``{children}``."""
        name = self.name()
        modifiers: dict[str, str] = {}
        children: tuple[FieldSpec, ...] | None = None
        alias = None
        while self.peek() in (".", "{"):
            if self.peek() == "{":
                if children is not None:
                    raise self.error()
                self.pos += 1
                children = self.fields()
                self.expect("}")
                continue
            self.pos += 1
            modifier = self.name()
            self.expect("(")
            end = self.source.find(")", self.pos)
            if end < 0:
                raise self.error()
            argument, self.pos = self.source[self.pos : end].strip(), end + 1
            if modifier == "as":
                alias = argument
            else:
                modifiers[modifier] = argument
        return FieldSpec(name, modifiers, children, alias)


def parse_fields(source: str | None) -> tuple[FieldSpec, ...] | None:
    """Return the parsed ``fields`` parameter, None when absent or empty; raise GraphError on bad syntax."""
    if source is None or not source.strip():
        return None
    return _FieldParser(source).parse()


def format_fields(specs: Sequence[FieldSpec]) -> str:
    """Return ``specs`` written back in the expansion syntax (for ``next`` URLs)."""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{name}({value})" for name, value in spec.modifiers.items())
        if spec.alias:
            text += f".as({spec.alias})"
        if spec.children is not None:
            text += "{" + format_fields(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)
