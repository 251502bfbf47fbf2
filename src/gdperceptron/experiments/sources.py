"""The source files that decide an experiment's results or figures.

:func:`module_sources` follows the imports of a module inside its own package (for an
experiment, the helper modules of :mod:`gdperceptron.experiments` it uses, directly or
through each other), so that task keys and figure keys change when any of them is edited.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any


def _imported_names(source: bytes, package: str) -> list[str]:
    """Absolute names of the modules (and of names in them) that ``source`` imports, with
    relative imports resolved against ``package``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def module_sources(module_name: str) -> list[tuple[str, bytes]]:
    """The source of ``module_name`` and of every module of its own package that it imports,
    directly or through each other (sorted by name): the code that decides its results."""
    package = module_name.rpartition(".")[0]
    found: dict[str, bytes] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            spec = None
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        try:
            source = Path(spec.origin).read_bytes()
        except OSError:
            continue
        found[name] = source
        todo += [
            n for n in _imported_names(source, package)
            if package and n.startswith(package + ".") and n not in found
        ]  # fmt: skip
    return sorted(found.items())


def source_fingerprint(fn: Any) -> bytes:
    """What identifies the code of ``fn``: for each module of :func:`module_sources` of the
    module that defines it, the module's name, a NUL and the sha256 of its source,
    concatenated in name order (only that module's file for a top-level module); the
    ``repr`` of its qualified name when it has no source file."""
    name = getattr(fn, "__module__", None) or ""
    module = sys.modules.get(name)
    try:
        path = inspect.getsourcefile(module) if module else None
    except TypeError:
        path = None
    found = module_sources(name) if path and name.count(".") else []
    if not found and path:
        try:
            found = [(name, Path(path).read_bytes())]
        except OSError:
            found = []
    if not found:
        return repr(getattr(fn, "__qualname__", fn)).encode()
    return b"".join(n.encode() + b"\0" + hashlib.sha256(src).digest() for n, src in found)
