"""``gdperceptron run``: one run, a readable summary or one JSON object."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from tqdm import tqdm

from gdperceptron.analysis.spectral import lambda2
from gdperceptron.engines.algorithms import ALGORITHM_NAMES
from gdperceptron.engines.config import DATA_NAMES, DEFAULTS, ENGINES, RunConfig
from gdperceptron.engines.runner import execute, summarize
from gdperceptron.models.builtin import ACTIVATIONS, MODEL_NAMES


def _classes(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two labels like 3,5, got {text!r}")
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"labels must be integers, got {text!r}") from None


def _strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None``: ``json.dumps`` would
    write ``NaN`` / ``Infinity``, which are not JSON (RFC 8259) and break strict readers.
    A diverged run keeps its meaning through ``stop_reason = "non_finite"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    return value


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """The options of :class:`RunConfig`, shared by every command that builds runs."""
    dflt = RunConfig()
    p.add_argument("--data", choices=DATA_NAMES, default=dflt.data)
    p.add_argument("--model", choices=MODEL_NAMES, default=dflt.model)
    p.add_argument("--algorithm", choices=ALGORITHM_NAMES, default=dflt.algorithm)
    p.add_argument(
        "--step",
        type=float,
        default=None,
        help="step gamma > 0 (default: 1/lambda_2 for the tied model on the "
        "minimal example, else 1)",
    )
    p.add_argument("--seed", type=int, default=dflt.seed)
    p.add_argument("--max-iter", type=int, default=dflt.max_iter)
    p.add_argument("--no-stop", action="store_true", help="run all max-iter steps")
    p.add_argument("--engine", choices=ENGINES, default=dflt.engine)
    g = p.add_argument_group("data options")
    g.add_argument("--d", type=int, default=dflt.d, help="dimension (minimal, gaussian; 100)")
    g.add_argument("--mu", type=float, default=dflt.mu, help="mu of the minimal example (1)")
    g.add_argument("--n", type=int, default=None, help="number of samples")
    g.add_argument("--margin", type=float, default=dflt.margin, help="gaussian margin (0.1)")
    g.add_argument("--classes", type=_classes, default=dflt.classes, help="two labels, e.g. 3,5")
    g.add_argument("--data-dir", default=None, help="folder with MNIST/FashionMNIST/CIFAR-10")
    g = p.add_argument_group("model options")
    g.add_argument("--width", type=int, default=dflt.width, help="two-layer, mlp (16)")
    g.add_argument("--activation", choices=tuple(ACTIVATIONS), default=dflt.activation)
    g.add_argument("--depth", type=int, default=dflt.depth, help="mlp (3)")
    g.add_argument("--fixed-second-layer", action="store_true")
    g.add_argument("--init-scale", type=float, default=None)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The validated :class:`RunConfig` that parsed arguments describe."""
    step = args.step
    if step is None:
        step = 1.0
        if args.model == "tied" and args.data == "minimal":
            d = DEFAULTS["d"] if args.d is None else args.d
            mu = DEFAULTS["mu"] if args.mu is None else args.mu
            step = 1.0 / lambda2(d, mu) if d >= 2 else 1.0
    return RunConfig(
        data=args.data,
        model=args.model,
        algorithm=args.algorithm,
        step=step,
        seed=args.seed,
        max_iter=args.max_iter,
        stop_when_solved=not args.no_stop,
        engine=args.engine,
        d=args.d,
        mu=args.mu,
        n=args.n,
        margin=args.margin,
        classes=None if args.classes is None else tuple(args.classes),
        data_dir=args.data_dir,
        width=args.width,
        activation=args.activation,
        depth=args.depth,
        train_second_layer=False if args.fixed_second_layer else None,
        init_scale=args.init_scale,
    ).replace()


def _cmd(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    bar = None
    if not args.json:
        bar = tqdm(
            total=config.max_iter,
            desc="steps",
            unit="it",
            leave=False,
            mininterval=0.5,
            disable=None,
        )

    def progress(done: int, total: int, latest: dict | None = None) -> None:
        bar.n = min(done, total)
        bar.refresh()

    try:
        traj = execute(config, progress=progress if bar is not None else None)
    finally:
        # close (and so erase) the bar on errors too, or a terminal shows the error
        # message glued to a stale progress bar
        if bar is not None:
            bar.close()
    out = summarize(config, traj)
    if args.json:
        print(json.dumps(_strict_json(out), allow_nan=False))
        return 0
    it = out["iterations"]
    print(
        f"data={config.data} model={config.model} algorithm={config.algorithm} "
        f"step={config.step:.6g} seed={config.seed} engine={out['engine']}"
    )
    print(
        f"  solved: {out['solved']} at iteration {it}"
        if it is not None
        else f"  not solved after {out['n_steps']} steps"
    )
    print(f"  stop reason: {out['stop_reason']}; steps taken: {out['n_steps']}")
    print(f"  final loss: {out['final_loss']:.6g}; final min margin: {out['final_min_margin']:.6g}")
    print(f"  run time: {out['elapsed_s']:.4f} s (compilation excluded)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one algorithm on one data set and model")
    add_config_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd)
