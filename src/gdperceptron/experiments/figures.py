"""Shared figure plumbing: a headless matplotlib backend, PNG + PDF output, and figures
redrawn only when what they show changes.

Figure code only reads saved results; it never computes dynamics. :func:`plot_if_changed`
keys an experiment's figures on a hash of the records they read and of the plotting code
(the module that defines ``plot``, this module, the matplotlib version); when every file
of the last drawing with the same key is still there, nothing is drawn again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

from gdperceptron.experiments.sources import source_fingerprint

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update(
    {
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 9,
        "figure.dpi": 110,
        "savefig.bbox": "tight",
    }
)

FORMATS = ("png", "pdf")
STAMP_SUFFIX = ".figures.json"


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6):
    """A figure with ``nrows x ncols`` axes of the given size each; returns ``(fig, axes)``."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)


def save_figure(fig, out_dir: str | Path, stem: str) -> str:
    """Write ``<out_dir>/<stem>.png`` and ``.pdf``, close the figure, return ``stem``.

    The tight bounding box is measured once and used for both files (``savefig`` with
    ``bbox_inches="tight"`` would draw the whole figure an extra time per file to find
    it)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bbox = None
    if plt.rcParams["savefig.bbox"] == "tight":
        pad = plt.rcParams["savefig.pad_inches"]
        bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(pad)
    for ext in FORMATS:
        fig.savefig(out / f"{stem}.{ext}", bbox_inches=bbox)
    plt.close(fig)
    return stem


def figure_key(records: Sequence[Any], plot: Callable) -> str:
    """sha256 (hex) of the records' canonical JSON, the sources of ``plot``'s module and of
    the modules of its package it imports, and of this module, and the matplotlib version:
    what determines the drawn files."""
    h = hashlib.sha256()
    text = json.dumps(list(records), sort_keys=True, separators=(",", ":"), default=repr)
    for part in (text.encode(), source_fingerprint(plot), Path(__file__).read_bytes()):
        h.update(hashlib.sha256(part).digest())
    h.update(matplotlib.__version__.encode())
    return h.hexdigest()


def _stem(item: Any) -> str:
    p = Path(str(item))
    return p.stem if p.suffix.lower() in (".png", ".pdf") else p.name


def plot_if_changed(
    name: str,
    plot: Callable[[list[Any], Path], Any],
    records: list[Any],
    out_dir: str | Path,
    stamp_dir: str | Path | None = None,
) -> list[str]:
    """``plot(records, out_dir)``, unless the last drawing of experiment ``name`` had the
    same :func:`figure_key` and all its PNG and PDF files still exist; returns what
    ``plot`` returned (then, the stems it wrote). The key is kept in
    ``<stamp_dir>/<name>.figures.json`` (default ``stamp_dir``: ``.figure-keys`` beside
    ``out_dir``, so the figures folder holds figures only), removed before drawing and
    written after it."""
    out = Path(out_dir)
    keys = Path(stamp_dir) if stamp_dir is not None else out.parent / ".figure-keys"
    keys.mkdir(parents=True, exist_ok=True)
    stamp = keys / f"{name}{STAMP_SUFFIX}"
    key = figure_key(records, plot)
    try:
        saved = json.loads(stamp.read_text())
        if saved["key"] == key and all(
            (out / f"{_stem(s)}.{ext}").is_file() for s in saved["written"] for ext in FORMATS
        ):
            return list(saved["written"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    stamp.unlink(missing_ok=True)
    written = [str(item) for item in plot(records, out) or ()]
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps({"key": key, "written": written}))
    os.replace(tmp, stamp)
    return written
