"""Griffe extension: Sphinx roles and theory-page citations in docstrings become links.

The docstrings name other objects as ``:func:`name```, ``:class:`~path.Name``` and so on.
MkDocs would print the role literally; this extension rewrites each one, before the
docstring is rendered, into a cross-reference to the public object of that name (the last
dotted component, when ``gdperceptron`` exports it) or else into plain code. A citation
``docs/theory/<page>.md`` becomes a link to that page (checked by the strict build).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import griffe

_INIT = Path(__file__).resolve().parents[2] / "src" / "gdperceptron" / "__init__.py"
_ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|obj|exc):`~?([\w.]+)`")
_THEORY = re.compile(r"(?<![\w/`\[])docs/theory/([\w-]+)\.md")


def public_names(init: Path = _INIT) -> set[str]:
    """The names in ``gdperceptron.__all__``, read from the source without importing it."""
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def identifier(name: str) -> str:
    """The API reference's anchor of a public name."""
    return (
        "gdperceptron.estimator.GDClassifier" if name == "GDClassifier" else f"gdperceptron.{name}"
    )


def rewrite(text: str, public: set[str]) -> str:
    """``text`` with every role replaced by a cross-reference or by inline code."""

    def repl(m: re.Match) -> str:
        name = m[1].rsplit(".", 1)[-1]
        if name in public:
            return f"[`{name}`][{identifier(name)}]"
        return f"`{name}`"

    # the API pages live in docs/api/, beside docs/theory/
    text = _THEORY.sub(lambda m: f"[{m[0]}](../theory/{m[1]}.md)", text)
    return _ROLE.sub(repl, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring that Griffe loads."""

    def __init__(self) -> None:
        super().__init__()
        self.public = public_names()

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value, self.public)
