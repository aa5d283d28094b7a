"""OData `$filter` for the sandbox's collections: parse once, then test each entity's JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.graph.entities import EntityType, Kind
from sandbox.graph.responses import GraphError, bad_request

Predicate = Callable[[dict[str, Any]], bool]
Operand = Callable[[dict[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "startswith": lambda a, b: a.startswith(b),
    "endswith": lambda a, b: a.endswith(b),
    "contains": lambda a, b: b in a,
}
# Real OData operators the sandbox does not implement: named in the 400 so callers know why.
UNSUPPORTED_OPERATORS = frozenset({"has", "in", "add", "sub", "mul", "div", "mod", "any", "all"})
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"}) | COMPARISONS.keys()


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Literal:
    value: Any
    edm: str


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise bad_request(
                f"Invalid filter clause: syntax error at position {position} in '{text}'.",
                target="$filter",
            )
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return None
    return None


def _fold(value: Any) -> Any:
    """Graph compares strings case-insensitively in $filter."""
    return value.casefold() if isinstance(value, str) else value


class _Parser:
    def __init__(self, text: str, entity_type: EntityType) -> None:
        self.text = text
        self.entity_type = entity_type
        self.tokens = _tokenize(text)
        self.position = 0

    def error(self, message: str) -> GraphError:
        return bad_request(f"Invalid filter clause: {message}", target="$filter")

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error(f"the expression '{self.text}' ends too early.")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise self.error(f"expected '{text}' but found '{token.text}'.")

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "name" and token.text in words

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        token = self.peek()
        if token is not None:
            self.unsupported_or_unexpected(token)
        return predicate

    def unsupported_or_unexpected(self, token: Token) -> None:
        if token.text.lower() in UNSUPPORTED_OPERATORS:
            raise self.error(f"the operator '{token.text}' is not supported.")
        raise self.error(f"unexpected '{token.text}' in '{self.text}'.")

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.at_word("or"):
            self.take()
            right = self.parse_and()
            left = _or(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_unary()
        while self.at_word("and"):
            self.take()
            right = self.parse_unary()
            left = _and(left, right)
        return left

    def parse_unary(self) -> Predicate:
        if self.at_word("not"):
            self.take()
            inner = self.parse_unary()
            return lambda item: not inner(item)
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            predicate = self.parse_or()
            self.expect(")")
            return predicate
        if token is not None and token.kind == "name" and self.is_call():
            return self.parse_function()
        return self.parse_comparison()

    def is_call(self) -> bool:
        following = self.tokens[self.position + 1] if self.position + 1 < len(self.tokens) else None
        return following is not None and following.text == "("

    def parse_function(self) -> Predicate:
        name = self.take().text
        function = FUNCTIONS.get(name.lower())
        if function is None:
            raise self.error(f"the function '{name}' is not supported.")
        self.expect("(")
        subject = self.parse_operand()
        self.expect(",")
        argument = self.parse_operand()
        self.expect(")")

        def test(item: dict[str, Any]) -> bool:
            value, prefix = subject(item), argument(item)
            if not isinstance(value, str) or not isinstance(prefix, str):
                return False
            return function(value.casefold(), prefix.casefold())

        return test

    def parse_comparison(self) -> Predicate:
        left, left_kind = self.parse_typed_operand()
        token = self.take()
        operator = token.text
        if operator.lower() in UNSUPPORTED_OPERATORS:
            raise self.error(f"the operator '{operator}' is not supported.")
        compare = COMPARISONS.get(operator)
        if compare is None:
            raise self.error(f"expected a comparison operator but found '{operator}'.")
        right, right_kind = self.parse_typed_operand()
        self.check_types(left_kind, right_kind, operator)
        temporal = Kind.DATETIME in (left_kind, right_kind)

        def test(item: dict[str, Any]) -> bool:
            a, b = left(item), right(item)
            if temporal:
                a, b = _as_datetime(a), _as_datetime(b)
            return compare(_fold(a), _fold(b))

        return test

    def check_types(self, left: str, right: str, operator: str) -> None:
        kinds = {left, right}
        if Kind.DATETIME in kinds and kinds - {Kind.DATETIME, "null"}:
            other = (kinds - {Kind.DATETIME}).pop()
            raise self.error(
                "a binary operator with incompatible types was detected: "
                f"'{Kind.DATETIME}' and '{other}' for operator '{operator}'."
            )

    def parse_operand(self) -> Operand:
        return self.parse_typed_operand()[0]

    def parse_typed_operand(self) -> tuple[Operand, str]:
        token = self.take()
        if token.kind == "name" and token.text not in KEYWORDS:
            return self.property_operand(token.text)
        literal = self.literal(token)
        return (lambda item: literal.value), literal.edm

    def property_operand(self, path: str) -> tuple[Operand, str]:
        segments = path.split("/")
        prop = self.entity_type.property(segments[0])
        if prop is None:
            raise self.error(
                f"could not find a property named '{segments[0]}' on type "
                f"'{self.entity_type.qualified_name}'."
            )

        def value(item: dict[str, Any]) -> Any:
            current: Any = item
            for segment in segments:
                current = current.get(segment) if isinstance(current, dict) else None
            return current

        kind = prop.kind if len(segments) == 1 else Kind.STRING
        return value, (Kind.STRING if kind == Kind.ENUM else kind)

    def literal(self, token: Token) -> Literal:
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"), Kind.STRING)
        if token.kind == "datetime":
            return Literal(token.text, Kind.DATETIME)
        if token.kind == "guid":
            return Literal(token.text, Kind.STRING)
        if token.kind == "number":
            return Literal(float(token.text) if "." in token.text else int(token.text), "number")
        if token.text in ("true", "false"):
            return Literal(token.text == "true", Kind.BOOLEAN)
        if token.text == "null":
            return Literal(None, "null")
        self.unsupported_or_unexpected(token)
        raise AssertionError("unreachable")


def _and(left: Predicate, right: Predicate) -> Predicate:
    return lambda item: left(item) and right(item)


def _or(left: Predicate, right: Predicate) -> Predicate:
    return lambda item: left(item) or right(item)


def compile_filter(text: str, entity_type: EntityType) -> Predicate:
    """A predicate over Graph-shaped entities; 400 BadRequest naming what is not supported."""
    if not text.strip():
        raise bad_request("Invalid filter clause: the expression is empty.", target="$filter")
    return _Parser(text, entity_type).parse()
