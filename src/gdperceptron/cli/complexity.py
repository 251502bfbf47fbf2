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

from gdperceptron.cli import _args as A
from gdperceptron.errors import GDPerceptronError

FIGURE_SUFFIXES = (".png", ".pdf", ".json")
COMPLEXITY_MODELS = ("linear", "tied")
MAX_POINTS = 1000
MAX_SEEDS = 100_000
MAX_BOOT = 10**6
# Largest default budget of one run (steps): 20 d / mu^2 + 1e4 (linear) must stay below.
MAX_BUDGET = A.MAX_STEPS


def grid(d_min: int, d_max: int, points: int) -> list[int]:
    """``points`` log-spaced integers from ``d_min`` to ``d_max``, rounded, duplicates
    removed: ``np.unique(np.round(np.logspace(log10 d_min, log10 d_max, points)))``."""
    if d_min < 2 or d_max < d_min:
        raise GDPerceptronError(
            f"--d-min/--d-max: need 2 <= d-min <= d-max, got d-min={d_min}, d-max={d_max}"
        )
    if points < 2:
        raise GDPerceptronError(f"--points must be >= 2 (a slope needs two d), got {points}")
    import numpy as np

    ds = np.unique(np.round(np.logspace(math.log10(d_min), math.log10(d_max), points)))
    if ds.size < 2:
        raise GDPerceptronError(f"the grid {ds.astype(int).tolist()} has fewer than two values")
    return [int(d) for d in ds]


def _paths(out: str) -> tuple[Path, str]:
    path = Path(out)
    if path.suffix.lower() in FIGURE_SUFFIXES:
        return path.parent, path.stem
    return path, "complexity"


def check_budget(args: argparse.Namespace) -> None:
    """Refuse sweeps whose runs could take more than :data:`MAX_BUDGET` steps each, and
    bootstraps larger than memory, before anything runs."""
    if args.max_iter is None:
        # the linear budget 20 d / mu^2 + 1e4 in logarithms: mu^2 underflows for mu < 1e-154
        log_budget = math.log10(20.0) + math.log10(args.d_max) - 2.0 * math.log10(args.mu)
        if log_budget > math.log10(MAX_BUDGET):
            raise GDPerceptronError(
                f"--d-max/--mu: the default linear budget 20 d/mu^2 is 10^{log_budget:.1f} "
                f"steps at d={args.d_max}, mu={args.mu:g}, more than {MAX_BUDGET:.0e}; "
                "lower --d-max, raise --mu or give --max-iter"
            )
    if args.n_boot * args.seeds > A.MAX_ELEMENTS // 4:
        raise GDPerceptronError(
            f"--n-boot/--seeds: the bootstrap would draw {args.n_boot * args.seeds:.3g} "
            f"indices per d, more than {A.MAX_ELEMENTS // 4:.3g}"
        )


def _unsolved_note(s: dict[str, Any]) -> str | None:
    """Why no slope is fitted for this model's sweep (``None`` when every run solved)."""
    unsolved = int(sum(s["unsolved"]))
    if not unsolved:
        return None
    total = sum(len(c) for c in s["counts"])
    return (
        f"{unsolved} of {total} runs did not separate within max_iter: their counts are "
        "only lower bounds, so no slope is fitted (raise --max-iter)"
    )


def _results(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from gdperceptron.analysis.complexity import complexity_sweep, fit_loglog_slope
    from gdperceptron.engines.config import versions

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
        s["slope_note"] = _unsolved_note(s)
        if s["slope_note"] is not None:
            s["slope"], s["slope_ci"] = None, None
            continue
        slope, ci = fit_loglog_slope(s["d"], s["counts"], n_boot=args.n_boot, seed=args.seed)
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
        if s["slope"] is None:
            lines.append(f"{model}: no slope: {s['slope_note']}")
            continue
        lo, hi = s["slope_ci"]
        note = " (identical runs: the seed bootstrap has no spread)" if lo == hi else ""
        lines.append(
            f"{model}: iterations ~ d^{s['slope']:.3f}, 95% bootstrap CI [{lo:.3f}, {hi:.3f}]{note}"
        )
    return lines


def _cmd(args: argparse.Namespace) -> int:
    check_budget(args)  # before grid: the refusals answer without importing NumPy
    grid(args.d_min, args.d_max, args.points)
    folder, stem = _paths(args.out)
    A.out_folder("--out", folder)
    res = _results(args)
    json_path = folder / f"{stem}.json"
    json_path.write_text(json.dumps(res, indent=1))
    from gdperceptron.experiments.complexity import plot_saved

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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "complexity",
        help="iterations to separate vs d: tied O~(sqrt d) against linear Omega(d)",
        description="Iterations to separate the minimal example against d for the linear "
        "and the tied model (exact reduced simulation), the fitted log-log slopes with "
        "bootstrap intervals, a figure and its numbers. No slope is fitted for a model "
        "with runs that did not separate within the budget.",
    )
    dim = A.integer(2)
    p.add_argument("--d-min", type=dim, default=10, help="smallest d (default 10)")
    p.add_argument("--d-max", type=dim, default=10**7, help="largest d (default 1e7)")
    p.add_argument("--points", type=A.integer(2, MAX_POINTS), default=13, help="values of d (13)")
    p.add_argument(
        "--seeds", type=A.integer(1, MAX_SEEDS), default=16, help="runs per d and model (16)"
    )
    p.add_argument("--seed", type=A.seed(), default=0, help="base seed (inits, bootstrap)")
    p.add_argument(
        "--c", type=A.real(positive=True), default=1.0, help="tied step c / lambda_2 (1)"
    )
    p.add_argument("--linear-step", type=A.real(positive=True), default=1.0, help="(1)")
    p.add_argument("--mu", type=A.real(positive=True, maximum=1e100), default=1.0, help="mu (1)")
    p.add_argument(
        "--max-iter",
        type=A.integer(0, A.MAX_STEPS),
        default=None,
        help="budget per run (default: 20 d/mu^2 + 1e4 linear, 1000 sqrt(d) + 1e4 tied)",
    )
    p.add_argument(
        "--n-boot", type=A.integer(1, MAX_BOOT), default=2000, help="bootstrap replicates"
    )
    p.add_argument(
        "--out", type=A.nonempty(), default="complexity", help="figure folder or file path"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd)
