"""``gdperceptron reproduce``: every experiment, cached, with figures and an HTML report.

Output folder (default ``./results``, ``./results-quick`` with ``--quick``: the two never
share a folder): ``results.sqlite``, ``figures/`` and ``report/index.html``. Local data
sets (Fashion-MNIST, MNIST, CIFAR-10) are read from ``--data-dir``, else
``$GDPERCEPTRON_DATA_DIR``, else ``/usr/share/datasets`` (where Debian's
``dataset-fashion-mnist`` installs Fashion-MNIST); the experiments that need a missing set
say so in one line and the report marks them not run. A rerun computes only the tasks
that are not saved yet; ``--force`` recomputes those of the selected experiments. Exit
status: 0 when every experiment ran (whatever its verdict), 1 when one failed, 2 on bad
input or an unusable output folder, 130 when interrupted (Ctrl-C) and 143 when terminated
(SIGTERM); finished tasks are kept in every case.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from gdperceptron.cli import Terminated
from gdperceptron.cli import _args as A
from gdperceptron.errors import GDPerceptronError

NAMES = A.EXPERIMENT_NAMES
MAX_WORKERS = 4096


def _names(text: str) -> tuple[str, ...]:
    """``--only a,b`` -> ``("a", "b")``, each a registered experiment, in registry order."""
    picked = [t.strip() for t in text.split(",") if t.strip()]
    if not picked:
        raise argparse.ArgumentTypeError("expected experiment names like predecessor,spectrum")
    unknown = [t for t in picked if t not in NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown experiment {unknown[0]!r}; choose from {', '.join(NAMES)}"
        )
    return tuple(n for n in NAMES if n in picked)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected an integer in 1..{MAX_WORKERS}, got {value}")
    return value


def _load(names: tuple[str, ...]) -> list:
    """The experiments, or one clear error naming the one that cannot be loaded."""
    from gdperceptron.experiments import get_experiment

    out = []
    for name in names:
        try:
            out.append(get_experiment(name))
        except Exception as err:  # a missing or broken module: one clear line, exit 2
            raise GDPerceptronError(
                f"experiment {name!r} cannot be loaded: {type(err).__name__}: {err}"
            ) from None
    return out


def _command(args: argparse.Namespace) -> str:
    """The command line that these parsed options stand for (for the report)."""
    parts = ["gdperceptron", "reproduce"] + (["--quick"] if args.quick else [])
    parts += ["--out", args.out]
    if args.only:
        parts += ["--only", ",".join(args.only)]
    parts += ["--force"] if args.force else []
    parts += ["--executor", args.executor]
    for flag, value in (
        ("--workers", args.workers),
        ("--ray-address", args.ray_address),
        ("--data-dir", args.data_dir),
    ):
        if value is not None:
            parts += [flag, str(value)]
    return shlex.join(parts)


def _check_data_dir(path: str | None, where: str = "--data-dir") -> None:
    from pathlib import Path

    if path is None:
        return
    folder = Path(path)
    if not folder.is_dir():
        raise GDPerceptronError(f"{where} {path}: not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise GDPerceptronError(f"{where} {path}: the folder is not readable")


def resolve_defaults(args: argparse.Namespace) -> str:
    """Fill in ``--out`` (``results``, or ``results-quick`` with ``--quick``) and
    ``--data-dir`` (:func:`gdperceptron.data.loaders.default_data_dir`); return where the
    data folder came from, for error messages."""
    if args.out is None:
        args.out = "results-quick" if args.quick else "results"
    if args.data_dir is not None:
        return "--data-dir"
    from gdperceptron.data.loaders import DATA_DIR_ENV, default_data_dir

    args.data_dir = default_data_dir()
    return DATA_DIR_ENV if os.environ.get(DATA_DIR_ENV) else "--data-dir"


def _cmd(args: argparse.Namespace) -> int:
    if args.ray_address and args.executor != "ray":
        raise GDPerceptronError("--ray-address needs --executor ray")
    if args.ray_address and args.workers is not None:
        raise GDPerceptronError(
            "--workers does not apply to a Ray cluster (--ray-address): it sizes a new "
            "local instance"
        )
    where = resolve_defaults(args)
    _check_data_dir(args.data_dir, where)
    A.out_folder("--out", args.out)
    from gdperceptron.pipeline.reproduce import DB_NAME, reproduce

    experiments = _load(args.only or NAMES)
    command = _command(args)
    try:
        summary = reproduce(
            experiments,
            args.out,
            quick=args.quick,
            force=args.force,
            executor=args.executor,
            workers=args.workers,
            ray_address=args.ray_address,
            data_dir=args.data_dir,
            command=command,
        )
    except KeyboardInterrupt as err:
        how = "terminated" if isinstance(err, Terminated) else "interrupted"
        sys.stderr.write(
            f"gdperceptron: {how}; finished tasks are saved in {args.out}/{DB_NAME}. "
            "Run the same command again to resume.\n"
        )
        return 143 if isinstance(err, Terminated) else 130
    print(summary.table())
    print(f"\nreport: {summary.report}")
    return 0 if summary.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run the experiments, save results, figures and an HTML report",
        description="Run the experiments of the paper (or some of them), caching every "
        "finished task in OUT/results.sqlite; a rerun computes only what is missing. "
        "Writes OUT/figures and OUT/report/index.html.",
    )
    p.add_argument("--quick", action="store_true", help="small versions of every experiment")
    p.add_argument(
        "--out",
        type=A.nonempty(),
        default=None,
        help="output folder (default: results, or results-quick with --quick)",
    )
    p.add_argument(
        "--only",
        type=_names,
        default=None,
        metavar="NAME,...",
        help=f"run only these experiments ({', '.join(NAMES)})",
    )
    p.add_argument("--force", action="store_true", help="recompute cached tasks")
    p.add_argument("--executor", choices=A.EXECUTORS, default="local", help="(local)")
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="worker processes (local) or CPUs of a new local Ray instance; "
        "default: all cores; 1 runs in this process",
    )
    p.add_argument(
        "--ray-address", default=None, help="Ray cluster address (default: $RAY_ADDRESS)"
    )
    p.add_argument(
        "--data-dir",
        type=A.nonempty(),
        default=None,
        help="folder with Fashion-MNIST/MNIST/CIFAR-10 (default: $GDPERCEPTRON_DATA_DIR, "
        "else /usr/share/datasets if it exists)",
    )
    p.set_defaults(func=_cmd)
