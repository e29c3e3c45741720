"""Every message the consent services show a person is marked for translation (Indonesian pages
must not fall back to English by construction)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import consent.services

_MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext"}
# A sentence shown to a person: starts with a capital letter, has words, ends with a full stop.
_SENTENCE = re.compile(r"^[A-Z][^\n]* [^\n]*[.!?]$")
# SQL statements built from names the code owns are not messages.
_SQL = re.compile(r"^(SELECT|INSERT|UPDATE|DELETE|WITH|LOCK|CREATE|ALTER|DROP) ")


def _for_operators(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """A configuration error is read by whoever deploys the registry, in English, not by a person
    using it."""
    parent = parents.get(node)
    while parent is not None and not isinstance(parent, ast.Call):
        parent = parents.get(parent)
    return (
        isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "ImproperlyConfigured"
    )


def _unmarked_sentences(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and _SENTENCE.match(node.value)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr):  # a docstring
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in _MARKERS:
            continue
        found.append((node.lineno, node.value[:70]))
    # f-strings cannot be translated: a message must be "… %(name)s …" % {...}.
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if " " in text and re.match(r"^[A-Z]", text) and not _SQL.match(text) and not _for_operators(node, parents):
                found.append((node.lineno, ast.unparse(node)[:70]))
    return sorted(found)


def test_every_message_in_the_services_is_marked_for_translation() -> None:
    modules = sorted(Path(consent.services.__file__).parent.glob("*.py"))
    assert len(modules) > 10  # the package's modules, not only its __init__
    unmarked = {path.name: found for path in modules if (found := _unmarked_sentences(path.read_text()))}
    assert unmarked == {}


def test_the_check_leaves_sql_alone_and_still_finds_an_f_string_message() -> None:
    assert _unmarked_sentences('q = f"SELECT id FROM {table} WHERE x = 1"\n') == []
    assert _unmarked_sentences('m = f"Consent {ref} was revoked."\n') == [(1, "f'Consent {ref} was revoked.'")]


def test_the_check_leaves_configuration_errors_to_operators() -> None:
    sample = 'def f(n):\n    raise ImproperlyConfigured(f"SETTING must be at least 13; got {n}.")\n'
    assert _unmarked_sentences(sample) == []
    assert _unmarked_sentences(sample.replace("ImproperlyConfigured", "NotAllowed")) != []


def test_the_check_finds_an_unmarked_message() -> None:
    sample = 'def f():\n    raise NotAllowed("Only staff resolve disputes.")\n'
    assert _unmarked_sentences(sample) == [(2, "Only staff resolve disputes.")]
    assert _unmarked_sentences(sample.replace('NotAllowed("', 'NotAllowed(_("').replace('.")', '."))')) == []
