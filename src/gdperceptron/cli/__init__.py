"""Command line: gdperceptron <command> [options].

Each command lives in its own module with a ``register(subparsers)`` function that only
declares options (no JAX import: ``--help``, ``--version`` and bad options answer at
once); the work is imported when a command runs. Bad input ends with a one-line
``gdperceptron: error: ...`` message and exit status 2; Ctrl-C exits with 130 and
SIGTERM with 143, both with one line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from gdperceptron.engines.compilation_cache import enable_persistent_cache
from gdperceptron.errors import GDPerceptronError

COMMANDS = ("run", "complexity", "spectrum", "reproduce")
COMMANDS += ("phase",)  # step-size phase diagrams (cli/phase.py)
VERSION = "0.1.0"
DESCRIPTION = (
    "Gradient descent on the logistic loss as a generalized perceptron: single runs, the "
    "complexity study, the spectra of the minimal example and the reproduction pipeline."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: handled like Ctrl-C (finished work is kept)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump) and that takes
    negative numbers (``-1``, ``-inf``, ``-1e5``, ``-1,2``) as option values."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # no option of ours starts with one dash and a digit, "." or inf/nan
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"gdperceptron: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (cheap: imports no numerical module)."""
    parser = _Parser(prog="gdperceptron", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"gdperceptron {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"gdperceptron.cli.{name}").register(sub)
    return parser


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _float64_process() -> None:
    """The command line is a process of its own and computes in float64 throughout:
    switch JAX's x64 mode on, without importing JAX when it is not loaded yet (JAX reads
    ``JAX_ENABLE_X64`` when it is first imported, after the arguments are checked)."""
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
    else:
        os.environ["JAX_ENABLE_X64"] = "1"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 an experiment failed, 2 bad input or
    an unusable file, 130 interrupted, 143 terminated)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a parse error (status 2), --help or --version (0)
        return exc.code if isinstance(exc.code, int) else 0
    _float64_process()
    enable_persistent_cache()  # JAX's compilation cache on disk (opt-out: see its docstring)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        with warnings.catch_warnings():
            # a diverging run overflows on purpose; the result says so (stop reason)
            warnings.simplefilter("ignore", RuntimeWarning)
            return int(args.func(args) or 0)
    except GDPerceptronError as err:
        sys.stderr.write(f"gdperceptron: error: {_one_line(err)}\n")
        return 2
    except MemoryError:
        sys.stderr.write(
            "gdperceptron: error: not enough memory for this request; use smaller sizes\n"
        )
        return 2
    except OSError as err:  # disk full, read-only folder, permission denied
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        sys.stderr.write(
            f"gdperceptron: error: cannot read or write{where}: {_one_line(err.strerror or err)}\n"
        )
        return 2
    except Terminated:
        sys.stderr.write("gdperceptron: terminated\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write("gdperceptron: interrupted\n")
        return 130
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
