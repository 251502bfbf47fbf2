"""Figures: drawn again only when the records or the plotting code change; PNG and PDF
from one measured bounding box give the same image as two plain ``savefig`` calls."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from gdperceptron.experiments import figures
from gdperceptron.experiments.figures import (
    figure_key,
    new_figure,
    plot_if_changed,
    plt,
    save_figure,
)

RECORDS = [({"d": 10, "seed": 0}, {"t": 3, "loss": [0.5, 0.25]}), ({"d": 20, "seed": 1}, {"t": 7})]


class CountingPlot:
    """A plot function that draws a small real figure and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.__module__ = __name__

    def __call__(self, records, out_dir: Path) -> list[str]:
        self.calls += 1
        fig, ax = new_figure()
        ax[0, 0].plot([p["d"] for p, _ in records], [r["t"] for _, r in records], "o-")
        return [save_figure(fig, out_dir, "counted")]


def test_rerun_with_the_same_records_does_not_redraw(tmp_path: Path) -> None:
    plot = CountingPlot()
    assert plot_if_changed("exp", plot, RECORDS, tmp_path / "f") == ["counted"]
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["counted.pdf", "counted.png"]
    png = (tmp_path / "f" / "counted.png").read_bytes()
    assert plot_if_changed("exp", plot, RECORDS, tmp_path / "f") == ["counted"]
    assert plot.calls == 1
    assert (tmp_path / "f" / "counted.png").read_bytes() == png
    # records read back from a JSON store compare equal: the same key
    reloaded = [tuple(r) for r in json.loads(json.dumps(RECORDS))]
    assert figure_key(reloaded, plot) == figure_key(RECORDS, plot)
    plot_if_changed("exp", plot, reloaded, tmp_path / "f")
    assert plot.calls == 1


def test_changed_records_or_a_missing_file_redraw(tmp_path: Path) -> None:
    plot = CountingPlot()
    plot_if_changed("exp", plot, RECORDS, tmp_path / "f")
    changed = [RECORDS[0], ({"d": 20, "seed": 1}, {"t": 8})]
    plot_if_changed("exp", plot, changed, tmp_path / "f")
    assert plot.calls == 2
    (tmp_path / "f" / "counted.pdf").unlink()
    plot_if_changed("exp", plot, changed, tmp_path / "f")
    assert plot.calls == 3
    assert (tmp_path / "f" / "counted.pdf").is_file()
    plot_if_changed("exp", plot, changed, tmp_path / "f")
    assert plot.calls == 3


def test_key_depends_on_the_plotting_code(tmp_path: Path) -> None:
    from gdperceptron.experiments import complexity

    plot = CountingPlot()
    assert figure_key(RECORDS, plot) != figure_key(RECORDS, complexity.EXPERIMENT.plot)
    assert figure_key(RECORDS, plot) != figure_key(RECORDS[:1], plot)
    assert len({figure_key(RECORDS, plot) for _ in range(3)}) == 1


def test_a_failing_plot_leaves_no_stamp(tmp_path: Path) -> None:
    plot = CountingPlot()
    plot_if_changed("exp", plot, RECORDS, tmp_path / "f")

    def broken(records, out_dir):
        raise RuntimeError("plot failed on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        plot_if_changed("exp", broken, RECORDS[:1], tmp_path / "f")
    assert not (tmp_path / ".figure-keys" / f"exp{figures.STAMP_SUFFIX}").exists()
    plot_if_changed("exp", plot, RECORDS, tmp_path / "f")
    assert plot.calls == 2


def _figure():
    fig, axes = new_figure(2)
    x = np.linspace(0.0, 1.0, 200)
    for k, ax in enumerate(axes[0]):
        ax.plot(x, np.sin((k + 3) * x), label=f"sin {k + 3}x")
        ax.set_xlabel("x, a long axis label")
        ax.set_title(r"$\lambda_2$ and a title")
        ax.legend()
    return fig


def test_save_figure_gives_the_image_of_plain_savefig(tmp_path: Path) -> None:
    save_figure(_figure(), tmp_path, "once")
    fig = _figure()
    fig.savefig(tmp_path / "plain.png")  # rcParams: bbox "tight", measured for this file
    plt.close(fig)
    once, plain = mpimg.imread(tmp_path / "once.png"), mpimg.imread(tmp_path / "plain.png")
    assert once.shape == plain.shape
    assert np.array_equal(once, plain)
    assert (tmp_path / "once.pdf").read_bytes().startswith(b"%PDF")


def test_key_depends_on_the_plot_helpers(tmp_path: Path) -> None:
    """A plot whose drawing lives in a helper module of its package is redrawn when that
    helper changes."""
    import sys

    pkg = tmp_path / "gdp_fig_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "exp.py").write_text(
        "from gdp_fig_probe import draw\n\ndef plot(r, o):\n    return draw.go(r, o)\n"
    )
    (pkg / "draw.py").write_text("def go(r, o):\n    return []\n")
    sys.path.insert(0, str(tmp_path))
    try:
        from gdp_fig_probe import exp

        before = figure_key(RECORDS, exp.plot)
        (pkg / "draw.py").write_text("def go(r, o):\n    return ['other']\n")
        after = figure_key(RECORDS, exp.plot)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("gdp_fig_probe")]:
            sys.modules.pop(name)
    assert before != after
