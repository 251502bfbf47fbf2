"""``gdperceptron run``: one run, a readable summary or one JSON object.

Options that do not apply to the chosen data set or model are refused (``--n`` with the
minimal example, ``--width`` with the linear model, ...), and sizes are bounded before
anything is allocated or compiled.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from gdperceptron.cli import _args as A
from gdperceptron.errors import GDPerceptronError

# Which data sets / models each option applies to (attribute name -> names).
DATA_OPTIONS = {
    "d": ("minimal", "gaussian"),
    "mu": ("minimal",),
    "n": ("worst-case", "gaussian", "breast-cancer", "digits", *A.IMAGE_DATA),
    "margin": ("gaussian",),
    "classes": ("digits", *A.IMAGE_DATA),
    "data_dir": A.IMAGE_DATA,
    "label_column": ("data file",),
}
MODEL_OPTIONS = {
    "width": ("two-layer", "mlp"),
    "activation": ("two-layer", "mlp"),
    "depth": ("mlp",),
    "fixed_second_layer": ("two-layer",),
}
DEFAULT_D, DEFAULT_MU = 100, 1.0  # the run configuration's defaults (a test checks)
MAX_DEPTH = 64  # compilation time grows with the number of layers
# Feature dimension of the data sets whose d is fixed (the others: --d, or 2).
FIXED_D = {
    "worst-case": 2,
    "loss-unreliable": 2,
    "breast-cancer": 30,
    "digits": 64,
    "mnist": 784,
    "fashion-mnist": 784,
    "cifar10": 3072,
}


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
    """The options of a run configuration. Every default is ``None`` (the configuration's
    own default applies), so that options given where they do not apply can be refused."""
    p.add_argument(
        "--data",
        type=A.data_choice,
        default=None,
        metavar="NAME|FILE",
        help=f"data set ({', '.join(A.DATA_NAMES)}; default minimal) or a data file "
        "(.npz with X and y, X.npy beside y.npy, .csv with the label last, LibSVM)",
    )
    p.add_argument(
        "--model",
        type=A.model_choice,
        default=None,
        metavar="NAME|FACTORY",
        help=f"model ({', '.join(A.MODEL_NAMES)}; default tied) or a factory "
        "path/to/file.py:factory or package.module:factory whose factory(d) returns a "
        "Model or (apply_fn, params)",
    )
    p.add_argument("--algorithm", choices=A.ALGORITHM_NAMES, default=None, help="(gd)")
    p.add_argument(
        "--step",
        type=A.real(positive=True),
        default=None,
        help="step gamma > 0 (default: 1/lambda_2 for the tied model on the "
        "minimal example, else 1)",
    )
    p.add_argument("--seed", type=A.seed(), default=None, help="seed, 0..2^32-1 (0)")
    p.add_argument(
        "--max-iter",
        type=A.integer(0, A.MAX_STEPS),
        default=None,
        help="largest number of steps (10000)",
    )
    p.add_argument("--no-stop", action="store_true", help="run all max-iter steps")
    p.add_argument("--engine", choices=A.ENGINES, default=None, help="(auto)")
    g = p.add_argument_group("data options")
    g.add_argument("--d", type=A.integer(1), default=None, help="dimension (minimal, gaussian)")
    g.add_argument(
        "--mu",
        type=A.real(positive=True, maximum=1e100),
        default=None,
        help="mu of the minimal example (1)",
    )
    g.add_argument("--n", type=A.integer(2), default=None, help="number of samples")
    g.add_argument("--margin", type=A.real(minimum=0.0), default=None, help="gaussian margin")
    g.add_argument("--classes", type=A.label_pair(), default=None, help="two labels, e.g. 3,5")
    g.add_argument(
        "--data-dir",
        type=A.nonempty(),
        default=None,
        help="folder with MNIST/FashionMNIST/CIFAR-10",
    )
    g.add_argument(
        "--label-column",
        type=A.column,
        default=None,
        help="data file (.csv): the label's column, an index or a header name (default: the last)",
    )
    g = p.add_argument_group("model options")
    g.add_argument("--width", type=A.integer(1), default=None, help="hidden width (16)")
    g.add_argument("--activation", choices=A.ACTIVATION_NAMES, default=None, help="(relu)")
    g.add_argument(
        "--depth", type=A.integer(2, MAX_DEPTH), default=None, help="mlp weight layers (3)"
    )
    g.add_argument("--fixed-second-layer", action="store_true", help="two-layer: fix u")
    g.add_argument("--init-scale", type=A.real(minimum=0.0), default=None, help="init scale")


def _kind(chosen: str, names: tuple[str, ...], other: str) -> str:
    """A data set / model name as given, or what stands for every file / factory."""
    return chosen if chosen in names else other


def _check_applicable(data: str, model: str, args: argparse.Namespace) -> None:
    data = _kind(data, A.DATA_NAMES, "data file")
    model = _kind(model, A.MODEL_NAMES, "model factory")
    for table, chosen, what in ((DATA_OPTIONS, data, "--data"), (MODEL_OPTIONS, model, "--model")):
        for name, applies in table.items():
            if A.given(args, name) and chosen not in applies:
                raise GDPerceptronError(
                    f"{A.flag(name)} does not apply to {what} {chosen} "
                    f"(only to {', '.join(applies)})"
                )


def _check_sizes(data: str, model: str, fields: dict[str, Any]) -> None:
    """Refuse data or parameter arrays larger than ``MAX_ELEMENTS`` before building them."""
    d = FIXED_D.get(data, fields.get("d", DEFAULT_D))
    n = {"minimal": 2, "worst-case": 10, "gaussian": 100}.get(data, 0)
    n = fields.get("n") or n  # the bundled and image sets check n against their rows
    if n * d > A.MAX_ELEMENTS:
        what = "/".join(A.flag(k) for k in ("n", "d") if k in fields)
        raise GDPerceptronError(
            f"{what}: the data would hold n*d = {n * d:.3g} numbers, more than "
            f"{A.MAX_ELEMENTS:.3g} (2 GiB of float64)"
        )
    if model not in A.MODEL_NAMES:
        return  # a factory's model: its size is the factory's
    width, depth = fields.get("width", 16), fields.get("depth", 3)
    params = {
        "linear": d,
        "tied": d + 2,
        "two-layer": width * d + width,
        "mlp": width * d + (depth - 2) * width * width + width,
    }[model]
    if params > A.MAX_ELEMENTS:
        opts = "--width" if model in ("two-layer", "mlp") else "--d"
        raise GDPerceptronError(
            f"{opts}: the {model} model would have {params:.3g} parameters, more than "
            f"{A.MAX_ELEMENTS:.3g} (2 GiB of float64)"
        )


def config_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The run configuration's fields that the options set, checked: options that do not
    apply are refused, sizes bounded, the default step resolved."""
    data = args.data or "minimal"
    model = args.model or "tied"
    _check_applicable(data, model, args)
    fields: dict[str, Any] = {"data": data, "model": model}
    for name in (
        "algorithm",
        "step",
        "seed",
        "max_iter",
        "engine",
        "d",
        "mu",
        "n",
        "margin",
        "classes",
        "data_dir",
        "width",
        "activation",
        "depth",
        "init_scale",
        "label_column",
    ):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.no_stop:
        fields["stop_when_solved"] = False
    if args.fixed_second_layer:
        fields["train_second_layer"] = False
    if "classes" in fields:
        fields["classes"] = tuple(fields["classes"])
    if data in A.IMAGE_DATA:
        import os

        folder = fields.get("data_dir")
        if folder is None:
            raise GDPerceptronError(f"--data-dir is needed for --data {data} (local files)")
        if not os.path.isdir(folder):
            raise GDPerceptronError(f"--data-dir {folder}: not a folder")
    if model == "tied" and data == "minimal" and fields.get("d", DEFAULT_D) < 2:
        raise GDPerceptronError(f"--d: the tied model needs d >= 2, got {fields['d']}")
    _check_sizes(data, model, fields)
    if "step" not in fields and model == "tied" and data == "minimal":
        from gdperceptron.analysis.spectral import lambda2

        fields["step"] = 1.0 / lambda2(fields.get("d", DEFAULT_D), fields.get("mu", DEFAULT_MU))
    return fields


def config_from_args(args: argparse.Namespace) -> Any:
    """The validated ``RunConfig`` that parsed arguments describe."""
    from gdperceptron.engines.config import RunConfig

    return RunConfig(**config_fields(args)).replace()


def _cmd(args: argparse.Namespace) -> int:
    fields = config_fields(args)  # checked before the heavy imports below

    from gdperceptron.cli.progress import RunProgress
    from gdperceptron.engines.config import RunConfig
    from gdperceptron.engines.runner import execute, summarize

    config = RunConfig(**fields).replace()
    progress = RunProgress(config.max_iter, quiet=args.quiet or args.json)
    try:
        traj = execute(config, progress=progress)
    finally:
        # close (and so erase) the bar on errors too, or a terminal shows the error
        # message glued to a stale progress bar
        progress.close()
    out = summarize(config, traj)
    if args.save is not None:
        from gdperceptron.engines.saving import save_trajectory

        out["saved"] = str(save_trajectory(traj, args.save, config=out["config"]))
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
    if "saved" in out:
        print(f"  trajectory saved to {out['saved']}")
    if "note" in out:
        print(f"  note: {out['note']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run one algorithm on one data set and model",
        description="One run of a generalized perceptron (default: GD on the logistic loss, "
        "the tied model on the minimal example). Options that do not apply to the chosen "
        "data set or model are refused.",
    )
    add_config_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--save",
        metavar="PATH.npz",
        type=A.nonempty(),
        default=None,
        help="write the trajectory (iterations, every metric, final params, config) to one "
        ".npz file that numpy.load reads",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress display (a bar on a terminal, a line every 10 s in a log)",
    )
    p.set_defaults(func=_cmd)
