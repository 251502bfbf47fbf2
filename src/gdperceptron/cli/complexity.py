"""``gdperceptron complexity``: iteration count against d for the linear and the tied model
on the minimal example (docs/theory/minimal-example.md), the fitted log-log slopes, a figure and
its numbers.

Writes ``<out>/<stem>.json`` (the sweep, slopes, config and versions) and then draws
``<out>/<stem>.png`` / ``.pdf`` from that saved file. ``--out`` is a folder (stem
``complexity``) or a file path whose suffix, if any, is dropped.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from gdperceptron.analysis.complexity import COMPLEXITY_MODELS, complexity_sweep, fit_loglog_slope
from gdperceptron.engines.config import versions
from gdperceptron.errors import GDPerceptronError

FIGURE_SUFFIXES = (".png", ".pdf", ".json")


def grid(d_min: int, d_max: int, points: int) -> list[int]:
    """``points`` log-spaced integers from ``d_min`` to ``d_max``, rounded, duplicates
    removed: ``np.unique(np.round(np.logspace(log10 d_min, log10 d_max, points)))``."""
    if d_min < 2 or d_max < d_min:
        raise GDPerceptronError(f"need 2 <= d-min <= d-max, got d-min={d_min}, d-max={d_max}")
    if points < 2:
        raise GDPerceptronError(f"--points must be >= 2 (a slope needs two d), got {points}")
    ds = np.unique(np.round(np.logspace(math.log10(d_min), math.log10(d_max), points)))
    if ds.size < 2:
        raise GDPerceptronError(f"the grid {ds.astype(int).tolist()} has fewer than two values")
    return [int(d) for d in ds]


def _paths(out: str) -> tuple[Path, str]:
    path = Path(out)
    if path.suffix.lower() in FIGURE_SUFFIXES:
        return path.parent, path.stem
    return path, "complexity"


def _results(args: argparse.Namespace) -> dict[str, Any]:
    ds = grid(args.d_min, args.d_max, args.points)
    bar = tqdm(total=len(ds), desc="d", unit="d", leave=False, disable=None)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    try:
        sweep = complexity_sweep(
            ds,
            seeds=args.seeds,
            seed=args.seed,
            c=args.c,
            linear_step=args.linear_step,
            mu=args.mu,
            max_iter=args.max_iter,
            progress=progress,
        )
    finally:
        bar.close()
    for model in COMPLEXITY_MODELS:
        s = sweep[model]
        slope, ci = fit_loglog_slope(
            s["d"], s["counts"], n_boot=args.n_boot, seed=args.seed, max_iter=s["max_iter"]
        )
        s["slope"], s["slope_ci"] = slope, list(ci)
    sweep["config"] |= {"n_boot": args.n_boot, "slope_fit": "OLS of log(median + 1) on log d"}
    sweep["versions"] = versions()
    return sweep


def _table(res: dict[str, Any]) -> list[str]:
    lines = [f"{'d':>10} | {'linear median [q25, q75]':>34} | {'tied median [q25, q75]':>30}"]
    lin, tie = res["linear"], res["tied"]
    for j, d in enumerate(lin["d"]):
        cells = []
        for s, width in ((lin, 34), (tie, 30)):
            cell = f"{s['median'][j]:g} [{s['q25'][j]:g}, {s['q75'][j]:g}]"
            if s["unsolved"][j]:
                cell = f">= {cell} ({s['unsolved'][j]} unsolved)"
            cells.append(f"{cell:>{width}}")
        lines.append(f"{d:>10} | {cells[0]} | {cells[1]}")
    for model in COMPLEXITY_MODELS:
        s = res[model]
        lo, hi = s["slope_ci"]
        note = " (identical runs: the seed bootstrap has no spread)" if lo == hi else ""
        lines.append(
            f"{model}: iterations ~ d^{s['slope']:.3f}, 95% bootstrap CI [{lo:.3f}, {hi:.3f}]{note}"
        )
    return lines


def _cmd(args: argparse.Namespace) -> int:
    from gdperceptron.experiments.complexity import plot_saved

    res = _results(args)
    folder, stem = _paths(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{stem}.json"
    json_path.write_text(json.dumps(res, indent=1))
    plot_saved(json_path)
    files = [str(json_path)] + [str(folder / f"{stem}{ext}") for ext in (".png", ".pdf")]
    if args.json:
        print(json.dumps(res | {"files": files}))
        return 0
    c = res["config"]
    print(
        f"minimal example, mu={c['mu']:g}: linear step {c['linear_step']:g} from v0 = 0; tied "
        f"step {c['c']:g}/lambda_2, init N(0, 1/d); {c['seeds']} runs per d, seed {c['seed']}"
    )
    print("\n".join(_table(res)))
    print("wrote " + ", ".join(files))
    return 0


def _dimension(text: str) -> int:
    """An integer dimension, also written like ``1e7``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer such as 1000 or 1e7, got {text!r}"
        ) from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"d must be an integer, got {text!r}")
    return int(value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "complexity", help="iterations to separate vs d: tied O~(sqrt d) against linear Omega(d)"
    )
    p.add_argument("--d-min", type=_dimension, default=10, help="smallest d (default 10)")
    p.add_argument("--d-max", type=_dimension, default=10**7, help="largest d (default 1e7)")
    p.add_argument("--points", type=int, default=13, help="log-spaced values of d (default 13)")
    p.add_argument("--seeds", type=int, default=16, help="runs per d and model (default 16)")
    p.add_argument("--seed", type=int, default=0, help="base seed (inits and the bootstrap)")
    p.add_argument("--c", type=float, default=1.0, help="tied step c / lambda_2 (default 1)")
    p.add_argument("--linear-step", type=float, default=1.0, help="linear step (default 1)")
    p.add_argument("--mu", type=float, default=1.0, help="mu of the minimal example")
    p.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="budget per run (default: 20 d/mu^2 + 1e4 linear, 1000 sqrt(d) + 1e4 tied)",
    )
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default 2000)")
    p.add_argument("--out", default="complexity", help="figure folder or file path")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd)
