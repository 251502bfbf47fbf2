"""``gdperceptron spectrum``: the minimal example's spectra and its trajectory in the
eigenbasis (docs/theory/reduction.md quadratic models, docs/theory/spectra.md,
docs/theory/minimal-example.md).

Prints the Corollary's closed-form eigenvalues next to ``numpy.linalg.eigvalsh`` of the
explicit matrices, runs the tied model and checks, step by step, that each component of
``theta_t`` along an eigenvector of the driving matrix ``M_t`` is multiplied by
``1 + lambda`` (exact for the hard perceptron, up to ``||xi_t||`` for LR+GD). Saves the
numbers as JSON, then draws the components over time from that saved file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gdperceptron.cli import _args as A
from gdperceptron.errors import GDPerceptronError

DENSE_LIMIT = 2000  # the dense eigensolver check is O(d^3): only up to this d
MAX_STEPS = 100_000  # the run keeps every iterate: steps x d numbers
MAX_C = 1e6


def spectrum_numbers(
    d: int, mu: float, algorithm: str, c: float, steps: int, seed: int
) -> dict[str, Any]:
    """Closed-form vs numerical spectra and the eigenbasis growth check, JSON-ready."""
    if d > DENSE_LIMIT:
        raise GDPerceptronError(f"spectrum needs d <= {DENSE_LIMIT} (dense eigensolver), got {d}")
    if steps < 1:
        raise GDPerceptronError(f"steps must be >= 1, got {steps}")
    if steps * d > A.MAX_ELEMENTS // 4:
        raise GDPerceptronError(
            f"--steps/--d: the run keeps steps*d = {steps * d:.3g} numbers, more than "
            f"{A.MAX_ELEMENTS // 4:.3g}"
        )
    import numpy as np

    from gdperceptron.analysis.eigenpath import growth_report
    from gdperceptron.analysis.spectral import (
        minimal_example_matrices,
        minimal_example_spectrum,
    )
    from gdperceptron.data.synthetic import minimal_example
    from gdperceptron.engines.config import versions
    from gdperceptron.models.builtin import tied

    s = minimal_example_spectrum(d, mu)
    A1, A2 = minimal_example_matrices(d, mu)
    ev1, ev2 = np.linalg.eigvalsh(A1), np.linalg.eigvalsh(A2)
    closed = {"lambda1": s.lambda1, "lambda2": s.lambda2, "mu": s.mu}
    numeric = {
        "lambda1": float(ev1.max()),
        "lambda2": float(ev2.max()),
        "mu": float(np.sort(np.abs(ev2))[-3]),
    }  # |eigs| of A_2: λ2, λ2, μ, μ, 0...
    data, model = minimal_example(d, mu), tied(d)
    step = c / s.lambda2
    rep = growth_report(model, data, algorithm, step, model.initial_params(seed), steps)
    if not np.all(np.isfinite(rep.thetas)):
        raise GDPerceptronError(
            f"--c: the run overflowed float64 with step {c:g}/lambda_2 in {steps} steps; "
            "use a smaller --c or fewer --steps"
        )
    norms = np.linalg.norm(rep.thetas[:-1], axis=1)
    defect = np.abs(rep.next_projections - rep.predicted * rep.projections).max(axis=1) / norms
    solved = np.flatnonzero(np.all(rep.margins > 0, axis=1))
    return {
        "d": d,
        "mu": mu,
        "algorithm": algorithm,
        "step": step,
        "c": c,
        "seed": seed,
        "closed_form": closed,
        "eigvalsh": numeric,
        "max_relative_error": max(abs(closed[k] - numeric[k]) / closed[k] for k in closed),
        "steps": int(rep.etas.size),
        "solved_iteration": int(solved[0]) if solved.size else None,
        "max_growth_defect": float(defect.max()),
        "max_defect_minus_xi": float(np.max(defect * norms - rep.xi_norms)),
        "components": {k: np.abs(v).tolist() for k, v in rep.named.items()},
        "versions": versions(),
    }


def plot_saved(json_path: Path) -> list[Path]:
    """Draw ``|<theta_t, v>|`` over t for the Corollary's eigenvectors from saved JSON."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    saved = json.loads(json_path.read_text())
    fig, ax = new_figure(width=6.0, height=4.0)
    for name, values in saved["components"].items():
        ax[0, 0].semilogy(values, label=f"|<θ_t, {name}>|")
    if saved["solved_iteration"] is not None:
        ax[0, 0].axvline(saved["solved_iteration"], color="gray", ls=":", label="solved")
    ax[0, 0].set(
        xlabel="step t",
        ylabel="|component|",
        title=f"tied model, {saved['algorithm']}, d={saved['d']}, μ={saved['mu']:g}",
    )
    ax[0, 0].legend(fontsize=8)
    stem = save_figure(fig, json_path.parent, "spectrum")
    return [json_path.parent / f"{stem}.png", json_path.parent / f"{stem}.pdf"]


def _cmd(args: argparse.Namespace) -> int:
    folder = A.out_folder("--out", Path(args.out))
    out = spectrum_numbers(args.d, args.mu, args.algorithm, args.c, args.steps, args.seed)
    json_path = folder / "spectrum.json"
    json_path.write_text(json.dumps(out))
    figures = plot_saved(json_path)
    if args.json:
        print(json.dumps({k: v for k, v in out.items() if k != "components"}))
        return 0
    print(f"minimal example d={args.d}, mu={args.mu:g}: closed form vs numpy eigvalsh")
    for k in ("lambda1", "lambda2", "mu"):
        print(f"  {k:8s} {out['closed_form'][k]:.15g}  {out['eigvalsh'][k]:.15g}")
    print(f"  max relative error {out['max_relative_error']:.2e}")
    print(
        f"tied model, {args.algorithm}, step {out['step']:.6g}, {out['steps']} steps "
        f"(solved at {out['solved_iteration']}):"
    )
    print(
        f"  max_t max_v |<θ_t+1,v> - (1+λ)<θ_t,v>| / ||θ_t|| = {out['max_growth_defect']:.2e}"
        f"  (0 up to rounding for the hard perceptron; at most ||ξ_t|| for LR+GD:"
        f" max excess {out['max_defect_minus_xi']:.1e})"
    )
    print("wrote " + ", ".join(str(p) for p in [json_path, *figures]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spectrum",
        help="closed-form spectra and the eigenbasis trajectory",
        description="The closed-form eigenvalues of the minimal example against a dense "
        "eigensolver, and the tied model's run in the eigenbasis of its driving matrix; "
        "saves the numbers as JSON and draws the components over time.",
    )
    p.add_argument(
        "--d", type=A.integer(2, DENSE_LIMIT), default=100, help=f"dimension (2..{DENSE_LIMIT})"
    )
    p.add_argument("--mu", type=A.real(positive=True, maximum=1e100), default=1.0, help="(1)")
    p.add_argument("--algorithm", choices=A.ALGORITHM_NAMES, default="perceptron")
    p.add_argument(
        "--c",
        type=A.real(positive=True, maximum=MAX_C),
        default=1.0,
        help="step c / lambda_2 (default 1)",
    )
    p.add_argument(
        "--steps", type=A.integer(1, MAX_STEPS), default=60, help="steps of the run (60)"
    )
    p.add_argument("--seed", type=A.seed(), default=0)
    p.add_argument("--out", type=A.nonempty(), default="spectrum", help="output folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd)
