"""Tokens of a Go template, as ``text/template/parse``'s lexer produces them.

Text outside ``{{ }}`` becomes ``TEXT`` tokens, trimmed by ``{{- `` and `` -}}``; comments
(``{{/* */}}``) vanish; inside an action come identifiers, fields, variables, literals and
punctuation. The whole input is tokenized up front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["KEYWORDS", "ParseError", "Token", "tokenize"]

TEXT: Final = "text"
LEFT: Final = "{{"
RIGHT: Final = "}}"
SPACE: Final = "space"
FIELD: Final = "field"
IDENT: Final = "identifier"
VARIABLE: Final = "variable"
DOT: Final = "."
BOOL: Final = "bool"
NUMBER: Final = "number"
STRING: Final = "string"
RAW_STRING: Final = "raw string"
CHAR: Final = "char"
CHAR_CONSTANT: Final = "character constant"
DECLARE: Final = ":="
ASSIGN: Final = "="
PIPE: Final = "|"
LPAREN: Final = "("
RPAREN: Final = ")"
EOF: Final = "EOF"

KEYWORDS: Final = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template",
     "with"}
)  # fmt: skip

_SPACES: Final = " \t\r\n"
_SPACE_RUN: Final = re.compile(r"[ \t\r\n]+")
_WORD: Final = re.compile(r"\w+")
_QUOTED: Final = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"')
_CHAR_CONST: Final = re.compile(r"'(?:[^'\\\n]|\\[^\n])*'")
_NUMBER: Final = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]*)?"
    r"|0[oO][0-7_]*(?:\.[0-7_]*)?|0[bB][01_]*(?:\.[01_]*)?"
    r"|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]*)?)i?"
)
_TERMINATORS: Final = frozenset(" \t\r\n.,|:)(")
"""Characters that end a word or number, besides the first one of the right delimiter."""


class ParseError(Exception):
    """A template does not parse; the message reads ``template: NAME:LINE: problem``."""

    def __init__(self, name: str, line: int, problem: str) -> None:
        super().__init__(f"template: {name}:{line}: {problem}")
        self.name = name
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (the constants above, or a keyword), position and text."""

    kind: str
    pos: int
    value: str

    def __str__(self) -> str:
        if self.kind == EOF:
            return "EOF"
        if self.kind in KEYWORDS or self.kind == DOT:
            return f"<{self.value}>"
        if len(self.value) > 10:
            return '"' + self.value[:10] + '"...'
        return '"' + self.value + '"'


def describe_rune(char: str) -> str:
    """Go's ``%#U`` of a character: ``U+0023 '#'``."""
    return f"U+{ord(char):04X} '{char}'"


class _Lexer:
    """The lexer state: the input, the position and the tokens so far."""

    def __init__(self, name: str, text: str, left: str = LEFT, right: str = RIGHT) -> None:
        self.name = name
        self.text = text
        self.left = left
        self.right = right
        self.terminators = _TERMINATORS | {right[0]}
        self.pos = 0
        self.tokens: list[Token] = []
        self.paren_depth = 0

    def fail(self, pos: int, problem: str) -> ParseError:
        return ParseError(self.name, self.text.count("\n", 0, pos) + 1, problem)

    def emit(self, kind: str, start: int, end: int) -> None:
        self.tokens.append(Token(kind, start, self.text[start:end]))

    def run(self) -> list[Token]:
        text = self.text
        while True:
            start = self.pos
            index = text.find(self.left, start)
            if index < 0:
                if start < len(text):
                    self.emit(TEXT, start, len(text))
                self.tokens.append(Token(EOF, len(text), ""))
                return self.tokens
            width = len(self.left)
            trim = (
                len(text) > index + width + 1
                and text[index + width] == "-"
                and text[index + width + 1] in _SPACES
            )
            end = index
            if trim:
                end = start + len(text[start:index].rstrip(_SPACES))
            if end > start:
                self.emit(TEXT, start, end)
            after = index + width + (2 if trim else 0)
            if text.startswith("/*", after):
                self.comment(after)
            else:
                self.emit(LEFT, index, index + width)
                self.pos = after
                self.paren_depth = 0
                self.inside_action()

    def comment(self, start: int) -> None:
        close = self.text.find("*/", start + 2)
        if close < 0:
            raise self.fail(start, "unclosed comment")
        pos = close + 2
        if self.text.startswith(self.right, pos):
            self.pos = pos + len(self.right)
        elif self.text[pos : pos + 1] in _SPACES and self.text.startswith(
            "-" + self.right, pos + 1
        ):
            self.pos = self.skip_spaces(pos + 2 + len(self.right))
        else:
            raise self.fail(start, "comment ends before closing delimiter")

    def skip_spaces(self, pos: int) -> int:
        match = _SPACE_RUN.match(self.text, pos)
        return match.end() if match else pos

    def at_terminator(self, pos: int) -> bool:
        return pos >= len(self.text) or self.text[pos] in self.terminators

    def right_delim(self, pos: int, trim: bool) -> None:
        if self.paren_depth:
            raise self.fail(pos, "unclosed left paren")
        delim = pos + (2 if trim else 0)
        end = delim + len(self.right)
        self.emit(RIGHT, delim, end)
        self.pos = self.skip_spaces(end) if trim else end

    def inside_action(self) -> None:
        text = self.text
        while True:
            pos = self.pos
            if text.startswith(self.right, pos):
                self.right_delim(pos, trim=False)
                return
            if pos >= len(text):
                raise self.fail(pos, "unclosed action")
            char = text[pos]
            if char in _SPACES:
                if text.startswith("-" + self.right, pos + 1):
                    self.right_delim(pos, trim=True)
                    return
                self.space(pos)
            else:
                self.pos = self.item(pos, char)

    def space(self, pos: int) -> None:
        match = _SPACE_RUN.match(self.text, pos)
        assert match is not None
        end = match.end()
        if self.text.startswith("-" + self.right, end):
            end -= 1
        if end > pos:
            self.emit(SPACE, pos, end)
        self.pos = end

    def item(self, pos: int, char: str) -> int:
        """Scan the token starting with ``char`` at ``pos``; return where it ends."""
        if char in "=|(),":
            return self.punctuation(pos, char)
        if char in ":\"'`":
            return self.quoted(pos, char)
        if char == "$":
            return self.word(pos, pos + 1, VARIABLE)
        nxt = self.text[pos + 1 : pos + 2]
        if char == "." and not ("0" <= nxt <= "9" and nxt):
            return self.word(pos, pos + 1, FIELD)
        if char in "+-." or "0" <= char <= "9":
            return self.number(pos)
        if char.isalnum() or char == "_":
            return self.word(pos, pos, IDENT)
        if char.isascii() and char.isprintable():
            self.emit(CHAR, pos, pos + 1)
            return pos + 1
        raise self.fail(pos, f"unrecognized character in action: {describe_rune(char)}")

    def quoted(self, pos: int, char: str) -> int:
        """``:=``, a quoted or raw string, or a character constant."""
        if char == ":":
            if not self.text.startswith(":=", pos):
                raise self.fail(pos, "expected :=")
            self.emit(DECLARE, pos, pos + 2)
            return pos + 2
        if char == '"':
            return self.pattern(pos, _QUOTED, STRING, "unterminated quoted string")
        if char == "'":
            return self.pattern(pos, _CHAR_CONST, CHAR_CONSTANT, "unterminated character constant")
        close = self.text.find("`", pos + 1)
        if close < 0:
            raise self.fail(pos, "unterminated raw quoted string")
        self.emit(RAW_STRING, pos, close + 1)
        return close + 1

    def punctuation(self, pos: int, char: str) -> int:
        kinds = {"=": ASSIGN, "|": PIPE, "(": LPAREN, ")": RPAREN, ",": CHAR}
        self.emit(kinds[char], pos, pos + 1)
        if char == "(":
            self.paren_depth += 1
        elif char == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self.fail(pos, f"unexpected right paren {describe_rune(char)}")
        return pos + 1

    def pattern(self, pos: int, regex: re.Pattern[str], kind: str, problem: str) -> int:
        match = regex.match(self.text, pos)
        if match is None:
            raise self.fail(pos, problem)
        self.emit(kind, pos, match.end())
        return match.end()

    def word(self, start: int, body: int, kind: str) -> int:
        """A field (``.x``), variable (``$x``) or identifier starting at ``start``."""
        if kind != IDENT and self.at_terminator(body):
            self.emit(DOT if kind == FIELD else VARIABLE, start, body)
            return body
        match = _WORD.match(self.text, body)
        end = match.end() if match else body
        if not self.at_terminator(end):
            raise self.fail(end, f"bad character {describe_rune(self.text[end])}")
        if kind == IDENT:
            word = self.text[start:end]
            kind = word if word in KEYWORDS else BOOL if word in ("true", "false") else IDENT
        self.emit(kind, start, end)
        return end

    def number(self, pos: int) -> int:
        match = _NUMBER.match(self.text, pos)
        end = match.end() if match else pos
        after = self.text[end : end + 1]
        if end == pos or (after and (after.isalnum() or after == "_")):
            bad_end = end + 1 if after else end
            raise self.fail(pos, f'bad number syntax: "{self.text[pos:bad_end]}"')
        self.emit(NUMBER, pos, end)
        return end


def tokenize(name: str, text: str, delims: tuple[str, str] = (LEFT, RIGHT)) -> list[Token]:
    """All tokens of ``text``, ending with an ``EOF`` token.

    Args:
        name: the template name, for error messages.
        text: the template text.
        delims: the action delimiters (Go's ``Template.Delims``), ``{{`` and ``}}`` by default.

    Raises:
        ParseError: an unterminated action, string or comment, or a bad character.
    """
    return _Lexer(name, text, *delims).run()
