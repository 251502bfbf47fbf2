"""gdperceptron: gradient descent on the logistic loss as a generalized perceptron.

The public API; everything else is private to the package. See docs/theory/setting.md,
docs/theory/reduction.md, docs/theory/models.md.

The names load on first use (PEP 562 module ``__getattr__``): ``import gdperceptron``
and the command line's start-up import no numerical module; the first name used imports
its module (and JAX with it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers and the API reference
    from gdperceptron.analysis.complexity import (
        COMPLEXITY_MODELS,
        DEFAULT_DS,
        complexity_sweep,
        fit_loglog_slope,
        iterations_to_solve,
        lambda2,
        tied_step,
    )
    from gdperceptron.analysis.diagnostics import (
        MaxMargin,
        angle_to,
        loss_increases,
        max_margin_direction,
        normalized_margins,
        params_along,
        rate_constant,
        separated_for_good,
    )
    from gdperceptron.analysis.eigenpath import (
        GrowthReport,
        corollary_vectors,
        driving_matrix,
        eigen_components,
        growth_report,
        margin_matrix,
    )
    from gdperceptron.analysis.phase import PhaseDiagram, phase_diagram, step_grid
    from gdperceptron.analysis.sharpness import SharpnessPath, sharpness, sharpness_along
    from gdperceptron.analysis.spectral import (
        Eigensystem,
        MinimalSpectrum,
        eigensystem,
        growth_factors,
        minimal_example_matrices,
        minimal_example_spectrum,
        structured_matrix,
    )
    from gdperceptron.analysis.statistics import Interval, bootstrap_ci, paired_speedup
    from gdperceptron.data.bases import SegmentBasis
    from gdperceptron.data.files import load_file
    from gdperceptron.data.loaders import (
        breast_cancer,
        digits,
        load_cifar10,
        load_fashion_mnist,
        load_mnist,
        load_named,
    )
    from gdperceptron.data.synthetic import (
        Dataset,
        gaussian,
        loss_unreliable,
        make_dataset,
        minimal_example,
        minimal_example_basis,
        minimal_example_reduced,
        standardize,
        worst_case,
    )
    from gdperceptron.engines.algorithms import (
        ALGORITHM_NAMES,
        ALGORITHMS,
        Algorithm,
        error_term,
        get_algorithm,
        loss_fn,
        margins_fn,
        perceptron_step,
        weighted_direction,
    )
    from gdperceptron.engines.config import (
        DATA_NAMES,
        ENGINES,
        Problem,
        RunConfig,
        build,
        make_data,
        versions,
    )
    from gdperceptron.engines.losses import (
        hard_weights,
        logistic_loss,
        logistic_weights,
        per_sample_loss,
    )
    from gdperceptron.engines.outcome import OUTCOMES, Outcome, classify
    from gdperceptron.engines.reduced import (
        ReducedProblem,
        invariant_basis,
        lift,
        reduce_params,
        reduce_problem,
        run_reduced,
        run_reduced_problem,
    )
    from gdperceptron.engines.runner import (
        execute,
        summarize,
    )
    from gdperceptron.engines.saving import (
        load_saved,
        save_trajectory,
    )
    from gdperceptron.engines.scaled import run_scaled, run_scaled_problem
    from gdperceptron.engines.trajectory import (
        METRICS,
        Trajectory,
        run,
    )
    from gdperceptron.errors import (
        DataFileNotFoundError,
        GDPerceptronError,
    )
    from gdperceptron.estimator import (
        GDClassifier,
    )
    from gdperceptron.models.builtin import (
        ACTIVATIONS,
        MODEL_NAMES,
        Involution,
        Model,
        involution,
        linear,
        make_model,
        mlp,
        swap,
        tied,
        two_layer,
    )
    from gdperceptron.models.equinox import from_equinox
    from gdperceptron.models.flax import from_flax
    from gdperceptron.models.protocol import (
        FirstLayer,
        from_apply,
    )

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, ...]] = {
    "gdperceptron.analysis.complexity": (
        "COMPLEXITY_MODELS",
        "DEFAULT_DS",
        "complexity_sweep",
        "fit_loglog_slope",
        "iterations_to_solve",
        "lambda2",
        "tied_step",
    ),
    "gdperceptron.analysis.eigenpath": (
        "GrowthReport",
        "corollary_vectors",
        "driving_matrix",
        "eigen_components",
        "growth_report",
        "margin_matrix",
    ),
    "gdperceptron.analysis.spectral": (
        "Eigensystem",
        "MinimalSpectrum",
        "eigensystem",
        "growth_factors",
        "minimal_example_matrices",
        "minimal_example_spectrum",
        "structured_matrix",
    ),
    "gdperceptron.data.bases": ("SegmentBasis",),
    "gdperceptron.data.files": ("load_file",),
    "gdperceptron.data.loaders": (
        "breast_cancer",
        "digits",
        "load_cifar10",
        "load_fashion_mnist",
        "load_mnist",
        "load_named",
    ),
    "gdperceptron.data.synthetic": (
        "Dataset",
        "gaussian",
        "loss_unreliable",
        "make_dataset",
        "minimal_example",
        "minimal_example_basis",
        "minimal_example_reduced",
        "standardize",
        "worst_case",
    ),
    "gdperceptron.engines.algorithms": (
        "ALGORITHM_NAMES",
        "ALGORITHMS",
        "Algorithm",
        "error_term",
        "get_algorithm",
        "loss_fn",
        "margins_fn",
        "perceptron_step",
        "weighted_direction",
    ),
    "gdperceptron.engines.config": (
        "DATA_NAMES",
        "ENGINES",
        "Problem",
        "RunConfig",
        "build",
        "make_data",
        "versions",
    ),
    "gdperceptron.engines.losses": (
        "hard_weights",
        "logistic_loss",
        "logistic_weights",
        "per_sample_loss",
    ),
    "gdperceptron.engines.reduced": (
        "ReducedProblem",
        "invariant_basis",
        "lift",
        "reduce_params",
        "reduce_problem",
        "run_reduced",
        "run_reduced_problem",
    ),
    "gdperceptron.engines.runner": (
        "execute",
        "summarize",
    ),
    "gdperceptron.engines.saving": (
        "load_saved",
        "save_trajectory",
    ),
    "gdperceptron.engines.trajectory": (
        "METRICS",
        "Trajectory",
        "run",
    ),
    "gdperceptron.errors": (
        "DataFileNotFoundError",
        "GDPerceptronError",
    ),
    "gdperceptron.models.builtin": (
        "ACTIVATIONS",
        "MODEL_NAMES",
        "Involution",
        "Model",
        "involution",
        "linear",
        "make_model",
        "mlp",
        "swap",
        "tied",
        "two_layer",
    ),
    "gdperceptron.models.protocol": (
        "FirstLayer",
        "from_apply",
    ),
    "gdperceptron.estimator": ("GDClassifier",),
    # the adapters import Flax / Equinox (optional extras) when called, never here
    "gdperceptron.models.flax": ("from_flax",),
    "gdperceptron.models.equinox": ("from_equinox",),
    # outcome classes, the scaled simulation and the diagnostics of a run
    "gdperceptron.engines.outcome": ("OUTCOMES", "Outcome", "classify"),
    "gdperceptron.engines.scaled": ("run_scaled", "run_scaled_problem"),
    "gdperceptron.analysis.diagnostics": (
        "MaxMargin",
        "angle_to",
        "loss_increases",
        "max_margin_direction",
        "normalized_margins",
        "params_along",
        "rate_constant",
        "separated_for_good",
    ),
    "gdperceptron.analysis.sharpness": ("SharpnessPath", "sharpness", "sharpness_along"),
    "gdperceptron.analysis.phase": ("PhaseDiagram", "phase_diagram", "step_grid"),
    "gdperceptron.analysis.statistics": ("Interval", "bootstrap_ci", "paired_speedup"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gdperceptron' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "COMPLEXITY_MODELS",
    "DEFAULT_DS",
    "complexity_sweep",
    "fit_loglog_slope",
    "iterations_to_solve",
    "lambda2",
    "tied_step",
    "GrowthReport",
    "corollary_vectors",
    "driving_matrix",
    "eigen_components",
    "growth_report",
    "margin_matrix",
    "ReducedProblem",
    "invariant_basis",
    "lift",
    "reduce_params",
    "reduce_problem",
    "run_reduced",
    "run_reduced_problem",
    "Eigensystem",
    "MinimalSpectrum",
    "eigensystem",
    "growth_factors",
    "minimal_example_matrices",
    "minimal_example_spectrum",
    "structured_matrix",
    "minimal_example_basis",
    "SegmentBasis",
    "minimal_example_reduced",
    "ACTIVATIONS",
    "FirstLayer",
    "load_saved",
    "save_trajectory",
    "from_apply",
    "from_equinox",
    "from_flax",
    "load_file",
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "Algorithm",
    "DATA_NAMES",
    "DataFileNotFoundError",
    "Dataset",
    "GDClassifier",
    "ENGINES",
    "GDPerceptronError",
    "Involution",
    "METRICS",
    "MODEL_NAMES",
    "Model",
    "Problem",
    "RunConfig",
    "Trajectory",
    "breast_cancer",
    "build",
    "digits",
    "error_term",
    "execute",
    "gaussian",
    "get_algorithm",
    "hard_weights",
    "involution",
    "linear",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mnist",
    "load_named",
    "logistic_loss",
    "logistic_weights",
    "loss_fn",
    "loss_unreliable",
    "make_data",
    "make_dataset",
    "make_model",
    "margins_fn",
    "minimal_example",
    "mlp",
    "per_sample_loss",
    "perceptron_step",
    "run",
    "standardize",
    "summarize",
    "swap",
    "tied",
    "two_layer",
    "versions",
    "weighted_direction",
    "worst_case",
    "MaxMargin",
    "angle_to",
    "loss_increases",
    "max_margin_direction",
    "normalized_margins",
    "params_along",
    "rate_constant",
    "separated_for_good",
    "PhaseDiagram",
    "phase_diagram",
    "step_grid",
    "Interval",
    "bootstrap_ci",
    "paired_speedup",
    "SharpnessPath",
    "sharpness",
    "sharpness_along",
    "OUTCOMES",
    "Outcome",
    "classify",
    "run_scaled",
    "run_scaled_problem",
]
