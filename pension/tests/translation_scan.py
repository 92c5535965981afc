"""Find Chinese text that does not go through Django's translation machinery.

Every string a person reads is written in Chinese (the source language) inside a translation
call or tag, so that the English catalogue can translate it. What is not text but data keeps its
Chinese and is not translated:

- a module-level constant whose name is in capitals (column headers and their aliases, the words
  a file may hold for a sex or a status, region suffixes): `SEX_WORDS = {"男": "M"}`;
- the header of a spreadsheet column, given to `Column(...)`;
- docstrings;
- demo data, benchmarks, migrations and tests (EXEMPT below).

Run it on part of the tree while working: `python -m pension.tests.translation_scan enrollment`.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
TRANSLATION_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "gettext_noop",
}
DATA_CALLS = {"Column"}
SKIPPED_DIRS = {".venv", "node_modules", "migrations", "tests", "staticfiles", "artifacts", "bench"}
# Modules that are data through and through: the demo county's names and places.
EXEMPT = {"collection/demo.py", "reconciliation/demo.py", "conftest.py"}
SOURCE_DIRS = ("pension", "enrollment", "collection", "reconciliation", "templates")


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_data_assignment(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return False
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    return bool(names) and len(names) == len(targets) and all(n.isupper() for n in names)


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self._allowed = 0
        self._formatted = 0

    def visit_Module(self, node: ast.Module) -> None:
        for statement in node.body:
            if _is_data_assignment(statement):
                continue
            self.visit(statement)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or a bare string: read by maintainers, not users
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name in TRANSLATION_CALLS or name in DATA_CALLS:
            self._allowed += 1
            self.generic_visit(node)
            self._allowed -= 1
        else:
            self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._formatted += 1
        self.generic_visit(node)
        self._formatted -= 1

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or not CHINESE.search(node.value):
            return
        if self._allowed and not self._formatted:
            return
        self.found.append((node.lineno, node.value))


def python_offences(path: Path) -> Iterator[str]:
    finder = _Finder()
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    for line, value in finder.found:
        yield f"{path.relative_to(ROOT)}:{line}: {value!r}"


_TRANSLATED_LITERAL = re.compile(r"""_\((?:"[^"]*"|'[^']*')\)""")
_TRANSLATE_TAGS = ("translate ", "trans ", "blocktranslate", "blocktrans")


def template_offences(path: Path) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    in_block = in_comment = False
    for token in Lexer(source).tokenize():
        content = token.contents
        if token.token_type == TokenType.BLOCK:
            if content.startswith(("blocktranslate", "blocktrans")):
                in_block = True
            elif content.startswith(("endblocktranslate", "endblocktrans")):
                in_block = False
            elif content == "comment":
                in_comment = True
            elif content == "endcomment":
                in_comment = False
            if content.startswith(_TRANSLATE_TAGS):
                continue
        if in_block or in_comment or token.token_type == TokenType.COMMENT:
            continue
        if token.token_type != TokenType.TEXT:
            content = _TRANSLATED_LITERAL.sub("", content)
        if CHINESE.search(content):
            text = " ".join(content.split())[:80]
            yield f"{path.relative_to(ROOT)}:{token.lineno}: {text!r}"


def source_files(parts: tuple[str, ...] = SOURCE_DIRS) -> Iterator[Path]:
    for part in parts:
        base = ROOT / part
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            relative = path.relative_to(ROOT)
            if SKIPPED_DIRS.intersection(relative.parts) or relative.as_posix() in EXEMPT:
                continue
            if path.suffix in (".py", ".html", ".txt"):
                yield path


def offences(parts: tuple[str, ...] = SOURCE_DIRS) -> list[str]:
    found: list[str] = []
    for path in source_files(parts):
        scan = python_offences if path.suffix == ".py" else template_offences
        found.extend(scan(path))
    return found


if __name__ == "__main__":
    import django

    django.setup()
    found = offences(tuple(sys.argv[1:]) or SOURCE_DIRS)
    print("\n".join(found))
    print(f"{len(found)} untranslated", file=sys.stderr)
    sys.exit(1 if found else 0)
