"""The package's layers import each other in one direction only: no import circles.

The subpackages follow the flow of the computation; a module may import from its own
layer or from layers before it, never after:

    errors, _jax -> data -> models -> engines -> analysis -> (public API) -> experiments
    -> pipeline -> cli

``estimator`` sits beside ``analysis``, on top of the engines. The public API (the package
root, ``gdperceptron/__init__.py``) gathers the layers up to ``analysis``; experiments and
what comes after them use it, as experiments must use only the public API. Checked on the
source, so a lazy import inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gdperceptron"
LAYERS = ["errors", "data", "models", "engines", "analysis", "", "experiments", "pipeline", "cli"]
RANK = {name: k for k, name in enumerate(LAYERS)}
RANK.update({"_jax": 0, "estimator": RANK["analysis"], "torch": RANK["engines"]})


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return [m for m in out if m == "gdperceptron" or m.startswith("gdperceptron.")]


MODULES = sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    rel = path.relative_to(SRC).with_suffix("")
    own = "gdperceptron." + ".".join(rel.parts)
    rank = RANK[_layer(own)]
    for mod in _imports(path):
        assert RANK[_layer(mod)] <= rank, f"{own} (layer {rank}) imports {mod} from a later layer"
