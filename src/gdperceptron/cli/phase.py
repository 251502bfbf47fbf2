"""``gdperceptron phase``: outcome, iterations to separate and tau over a log-spaced step
grid, with the ``gamma -> inf`` limit (:func:`gdperceptron.analysis.phase.phase_diagram`).

Prints one line per step (or, with ``--json``, one object with equal-length lists
``steps``, ``outcome``, ``iterations``, ``tau``), writes ``<out>/phase.json`` and draws
``<out>/phase.png`` / ``.pdf``: iterations against gamma on log axes. ``--plot A.json
B.json ...`` draws saved diagrams side by side without running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gdperceptron.cli.run import _strict_json, add_config_arguments, config_from_args
from gdperceptron.errors import GDPerceptronError

MARKERS = {"max_iter": "s", "stalled": "x", "diverged": "^", "non_finite": "v"}


def _load(path: str) -> dict[str, Any]:
    try:
        out = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise GDPerceptronError(f"--plot: cannot read {path}: {err}") from None
    if not isinstance(out, dict) or not {"steps", "outcome", "iterations", "tau"} <= set(out):
        raise GDPerceptronError(f"--plot: {path} is not a saved phase diagram")
    return out


def draw(diagrams: list[dict[str, Any]], out_dir: str | Path, stem: str = "phase") -> str:
    """One panel per saved diagram: iterations to separate (filled) and tau (open) against
    gamma, failures at the top edge by outcome class, the ``gamma -> inf`` limit dashed."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, axes = new_figure(len(diagrams), 1, width=4.6, height=3.4)
    for ax, pd in zip(axes[0], diagrams, strict=True):
        steps, its, tau = pd["steps"], pd["iterations"], pd["tau"]
        top = float(pd["config"].get("max_iter") or 1) * 1.5
        ok = [j for j, it in enumerate(its) if it is not None]
        ax.plot([steps[j] for j in ok], [max(its[j], 1) for j in ok], "o-", ms=4,
                label="iterations to separate")  # fmt: skip
        tj = [j for j, t in enumerate(tau) if t]  # tau = 0: the loss never increases
        ax.plot([steps[j] for j in tj], [max(tau[j], 1) for j in tj], "o", mfc="none", ms=5,
                label="tau (last loss increase)")  # fmt: skip
        for name, marker in MARKERS.items():
            sel = [s for s, o in zip(steps, pd["outcome"], strict=True) if o == name]
            if sel:
                ax.plot(sel, [top] * len(sel), marker, color="gray", ls="none", label=name)
        limit = pd.get("limit", {}).get("iterations")
        if limit is not None:
            ax.axhline(max(limit, 1), ls="--", color="k", lw=1,
                       label=f"gamma -> inf ({pd['limit']['rule']})")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step gamma")
        ax.set_ylabel("iterations")
        cfg = pd["config"]
        ax.set_title(f"{cfg.get('data')}, {cfg.get('model')}, {cfg.get('algorithm')}")
        ax.legend(loc="lower left", fontsize=7)
    return save_figure(fig, out_dir, stem)


def draw_sharpness(paths: list[dict[str, Any]], out_dir: str | Path) -> str:
    """Sharpness along each saved run against its edge of stability ``2 / gamma``."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, axes = new_figure(1, 1, width=5.0, height=3.6)
    ax = axes[0][0]
    for k, p in enumerate(paths):
        color = f"C{k}"
        ax.plot(p["iterations"], p["sharpness"], "-", color=color, label=f"gamma = {p['step']:.3g}")
        ax.axhline(p["edge"], ls="--", lw=1, color=color)
    ax.set_yscale("log")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("sharpness (top Hessian eigenvalue)")
    ax.set_title("sharpness; dashed: 2 / gamma")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "sharpness")


def _sharpness(args: argparse.Namespace, config: Any, pd: Any, out: Path) -> None:
    """Sharpness every ``--sharpness-every`` iterations at up to four grid steps spread in
    ``log gamma``; ``sharpness.json`` and ``sharpness.png`` in ``out``."""
    import numpy as np

    from gdperceptron.analysis.sharpness import sharpness_paths
    from gdperceptron.engines.config import build

    problem = build(config)
    grid = [s for s, r in zip(pd.steps, pd.refined, strict=True) if not r]
    picks = sorted({grid[int(j)] for j in np.linspace(0, len(grid) - 1, min(4, len(grid)))})
    paths = sharpness_paths(problem.model, problem.data, config.algorithm, picks,
                            theta0=problem.theta0, max_iter=config.max_iter,
                            every=args.sharpness_every, seed=config.seed)  # fmt: skip
    result = [p.to_dict() for p in paths]
    (out / "sharpness.json").write_text(json.dumps(_strict_json(result), allow_nan=False))
    if result:
        draw_sharpness(result, out)


def _cmd(args: argparse.Namespace) -> int:
    if args.plot:
        stem = draw([_load(p) for p in args.plot], args.out)
        print(f"wrote {Path(args.out) / stem}.png")
        return 0
    if args.step is not None:
        raise GDPerceptronError("--step: gdperceptron phase takes a grid, use --steps lo:hi:count")
    config = config_from_args(args)

    def progress(k: int, step: float, outcome: str) -> None:
        if not args.quiet and not args.json:
            sys.stderr.write(f"  [{k}] step {step:.4g}: {outcome}\n")

    from gdperceptron.analysis.phase import phase_diagram  # after the arguments are checked

    pd = phase_diagram(config, args.steps, refine=args.refine, progress=progress)
    result = _strict_json(pd.to_dict())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "phase.json").write_text(json.dumps(result, allow_nan=False, indent=1))
    draw([result], out)
    if args.sharpness_every is not None:
        _sharpness(args, config, pd, out)
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    print(f"{'step':>10} {'outcome':>10} {'iterations':>10} {'tau':>8} {'engine':>8}")
    for s, o, it, t, e, r in zip(pd.steps, pd.outcome, pd.iterations, pd.tau, pd.engine,
                                 pd.refined, strict=True):  # fmt: skip
        mark = " (bisection)" if r else ""
        print(f"{s:>10.4g} {o:>10} {str(it):>10} {str(t):>8} {e:>8}{mark}")
    print(f"gamma -> inf limit ({pd.limit.rule}): {pd.limit.iterations} iterations")
    print(f"wrote {out / 'phase.json'} and {out / 'phase.png'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("phase", help="outcome, iterations and tau over a step grid")
    add_config_arguments(p)
    p.add_argument("--steps", default="1e-3:1e3:25",
                   help="log grid lo:hi:count, a quarter decade or finer")  # fmt: skip
    p.add_argument("--refine", type=int, default=6, help="bisections at the boundary (6)")
    p.add_argument("--out", default="phase", help="folder for phase.json and phase.png")
    p.add_argument("--plot", nargs="+", metavar="JSON", help="draw saved diagrams only")
    p.add_argument("--sharpness-every", type=int, default=None, metavar="K",
                   help="record the sharpness every K iterations at four grid steps")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no per-step progress lines")
    p.set_defaults(func=_cmd)
