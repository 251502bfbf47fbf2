"""Command line: ``gdperceptron <command> [options]``.

Each command lives in its own module with a ``register(subparsers)`` function; bad input
ends with a one-line ``gdperceptron: error: ...`` message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gdperceptron.engines.compilation_cache import enable_persistent_cache
from gdperceptron.errors import GDPerceptronError

COMMANDS = ("run", "complexity", "spectrum", "reproduce")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"gdperceptron: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gdperceptron", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"gdperceptron.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    enable_persistent_cache()  # JAX's compilation cache on disk (opt-out: see its docstring)
    from gdperceptron._jax import jax

    # a process of its own: the command line computes in float64 throughout
    jax.config.update("jax_enable_x64", True)
    try:
        return int(args.func(args) or 0)
    except GDPerceptronError as err:
        sys.stderr.write(f"gdperceptron: error: {err}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("gdperceptron: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
