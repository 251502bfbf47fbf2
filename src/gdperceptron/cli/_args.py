"""Argument types and name lists of the command line, importable without JAX.

The parser is built and the arguments are checked before any heavy module is imported,
so that ``--help``, ``--version`` and bad options answer at once. The name lists below
repeat those of the library (a test checks that they agree).

Every type turns one option's text into a value or raises
:class:`argparse.ArgumentTypeError` with a message that names the option.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

DATA_NAMES = (
    "minimal",
    "worst-case",
    "loss-unreliable",
    "gaussian",
    "breast-cancer",
    "digits",
    "mnist",
    "fashion-mnist",
    "cifar10",
)
IMAGE_DATA = ("mnist", "fashion-mnist", "cifar10")
MODEL_NAMES = ("linear", "tied", "two-layer", "mlp")
ALGORITHM_NAMES = ("gd", "perceptron", "normalized-gd", "normalized-perceptron")
ACTIVATION_NAMES = ("identity", "relu", "leaky_relu", "tanh", "square")
ENGINES = ("auto", "reduced", "full", "scaled")
EXECUTORS = ("local", "ray")
EXPERIMENT_NAMES = (
    "reduction",
    "complexity",
    "spectrum",
    "oscillations",
    "acceleration",
    "predecessor",
    "ablations",
    "chaos",
)

SEED_MAX = 2**32 - 1  # numpy's SeedSequence takes any int >= 0; one bound everywhere
# The largest float64 array (elements) that a command may ask for: 2^28 values, 2 GiB.
MAX_ELEMENTS = 2**28
# Steps of one run: int64 counters, and a bound that a run can reach in hours, not ages.
MAX_STEPS = 10**10


def data_choice(text: str) -> str:
    """A data set name, or the path of an existing data file (.npz, .npy, .csv, LibSVM)."""
    import os

    if text in DATA_NAMES:
        return text
    if os.path.isfile(text):
        return text
    if os.path.exists(text):
        raise _fail(f"{text!r} is not a file")
    raise _fail(
        f"{text!r} is neither a data set ({', '.join(DATA_NAMES)}) nor an existing data file"
    )


def model_choice(text: str) -> str:
    """A model name, or a factory ``path/to/file.py:factory`` / ``package.module:factory``."""
    if text in MODEL_NAMES:
        return text
    where, sep, attr = text.rpartition(":")
    if sep and where and attr.isidentifier():
        return text
    raise _fail(
        f"{text!r} is neither a model ({', '.join(MODEL_NAMES)}) nor a factory given as "
        "path/to/file.py:factory or package.module:factory"
    )


def column(text: str) -> int | str:
    """A column of a CSV file: an integer index (negative from the end) or a header name."""
    stripped = text.strip()
    if not stripped:
        raise _fail("expected a column index or a header name, got an empty string")
    try:
        return int(stripped)
    except ValueError:
        return stripped


def _fail(problem: str) -> argparse.ArgumentTypeError:
    """argparse prefixes the message with ``argument --option:``."""
    return argparse.ArgumentTypeError(problem)


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An integer option, also written like ``1e7``; ``1.5`` and ``2**63`` are refused."""

    def parse(text: str) -> int:
        stripped = text.strip()
        try:
            value = int(stripped)
        except ValueError:
            try:
                as_float = float(stripped)
            except ValueError:
                raise _fail(f"expected an integer, got {text!r}") from None
            if not math.isfinite(as_float) or not as_float.is_integer():
                raise _fail(f"expected an integer, got {text!r}") from None
            value = int(as_float)
        if minimum is not None and value < minimum:
            raise _fail(f"must be >= {minimum}, got {text}")
        if maximum is not None and value > maximum:
            raise _fail(f"must be <= {maximum:.6g}, got {text}")
        return value

    return parse


def real(
    *,
    positive: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Callable[[str], float]:
    """A finite real option (``nan``, ``inf`` and complex values are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _fail(f"expected a real number, got {text!r}") from None
        if not math.isfinite(value):
            raise _fail(f"must be a finite number, got {text}")
        if positive and not value > 0:
            raise _fail(f"must be > 0, got {text}")
        if minimum is not None and value < minimum:
            raise _fail(f"must be >= {minimum:g}, got {text}")
        if maximum is not None and value > maximum:
            raise _fail(f"must be <= {maximum:g}, got {text}")
        return value

    return parse


def seed() -> Callable[[str], int]:
    """A seed: an integer in ``0 .. 2^32 - 1``."""
    return integer(0, SEED_MAX)


def label_pair() -> Callable[[str], tuple[int, int]]:
    """Two distinct integer labels ``0 .. 9`` written ``a,b``."""

    def parse(text: str) -> tuple[int, int]:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2:
            raise _fail(f"expected two labels like 3,5, got {text!r}")
        try:
            a, b = int(parts[0]), int(parts[1])
        except ValueError:
            raise _fail(f"labels must be integers, got {text!r}") from None
        if not (0 <= a <= 9 and 0 <= b <= 9) or a == b:
            raise _fail(f"expected two distinct labels in 0..9, got {text!r}")
        return a, b

    return parse


def nonempty() -> Callable[[str], str]:
    """A non-empty text (a path)."""

    def parse(text: str) -> str:
        if not text.strip() or "\x00" in text:
            raise _fail(f"expected a path, got {text!r}")
        return text

    return parse


def given(args: argparse.Namespace, *names: str) -> list[str]:
    """The options among ``names`` (attribute names) that were given (not ``None``/False)."""
    return [n for n in names if not (getattr(args, n, None) is None or getattr(args, n) is False)]


def flag(name: str) -> str:
    """``max_iter`` -> ``--max-iter``."""
    return "--" + name.replace("_", "-")


def out_folder(option: str, path: Any) -> Any:
    """Create the output folder ``path`` or raise a one-line error naming ``option``.

    Refuses a path that is a file (``/dev/null`` too), lies under a file, or cannot be
    created or written to. Returns ``path`` as a :class:`pathlib.Path`.
    """
    import os
    from pathlib import Path

    from gdperceptron.errors import GDPerceptronError

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise GDPerceptronError(f"{option} {path}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GDPerceptronError(
            f"{option} {path}: cannot create the folder ({_why(err)})"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise GDPerceptronError(f"{option} {path}: the folder is not writable")
    return folder


def _why(err: OSError) -> str:
    return err.strerror or type(err).__name__
