"""Run configurations: a frozen dataclass, its validation, and building a run from it.

A :class:`RunConfig` names the data, the model, the algorithm and every option; it is
what the CLI parses, what results carry (resolved, with package versions), and what
experiments hash to cache their tasks.
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass
from importlib import metadata
from typing import Any, NamedTuple

import numpy as np

from gdperceptron.data.synthetic import (
    Dataset,
    gaussian,
    loss_unreliable,
    minimal_example,
    worst_case,
)
from gdperceptron.engines.algorithms import ALGORITHM_NAMES, check_step
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import ACTIVATIONS, MODEL_NAMES, Model, make_model

DATA_NAMES = (
    "minimal",
    "worst-case",
    "loss-unreliable",
    "gaussian",
    "breast-cancer",
    "digits",
    "mnist",
    "fashion-mnist",
    "cifar10",
)
ENGINES = ("auto", "reduced", "full")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run. Defaults: the minimal example with the tied model."""

    data: str = "minimal"
    model: str = "tied"
    algorithm: str = "gd"
    step: float = 1.0
    seed: int = 0
    max_iter: int = 10_000
    stop_when_solved: bool = True
    engine: str = "auto"
    # data options
    d: int = 100
    mu: float = 1.0
    n: int | None = None
    margin: float = 0.1
    classes: tuple[int, int] = (0, 1)
    data_dir: str | None = None
    # model options
    width: int = 16
    activation: str = "relu"
    depth: int = 3
    train_second_layer: bool = True
    init_scale: float | None = None
    record_error: bool = False

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed, validated."""
        return validate(dataclasses.replace(self, **changes))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["classes"] = list(self.classes)
        return out


def validate(config: RunConfig) -> RunConfig:
    """Check names and ranges; raise :class:`GDPerceptronError` with a one-line message."""
    for value, valid, what in (
        (config.data, DATA_NAMES, "data set"),
        (config.model, MODEL_NAMES, "model"),
        (config.algorithm, ALGORITHM_NAMES, "algorithm"),
        (config.activation, tuple(ACTIVATIONS), "activation"),
        (config.engine, ENGINES, "engine"),
    ):
        if value not in valid:
            raise GDPerceptronError(f"unknown {what} {value!r}; choose one of {', '.join(valid)}")
    check_step(config.step)
    if int(config.max_iter) != config.max_iter or config.max_iter < 0:
        raise GDPerceptronError(f"max_iter must be an integer >= 0, got {config.max_iter}")
    if config.model == "tied" and config.data == "minimal" and config.d < 2:
        raise GDPerceptronError(f"the tied model needs d >= 2, got d = {config.d}")
    if len(config.classes) != 2 or config.classes[0] == config.classes[1]:
        raise GDPerceptronError(f"classes must be two distinct labels, got {config.classes}")
    return config


class Problem(NamedTuple):
    """A built run: data set, model and initial parameters."""

    data: Dataset
    model: Model
    theta0: np.ndarray


def make_data(config: RunConfig) -> Dataset:
    """The data set a config names."""
    name = config.data
    if name == "minimal":
        return minimal_example(config.d, config.mu)
    if name == "worst-case":
        return worst_case(config.n if config.n is not None else 10)
    if name == "loss-unreliable":
        return loss_unreliable()
    if name == "gaussian":
        n = config.n if config.n is not None else 100
        return gaussian(n, config.d, config.margin, seed=config.seed)
    from gdperceptron.data.loaders import load_named

    return load_named(
        name, data_dir=config.data_dir, classes=tuple(config.classes), n=config.n, seed=config.seed
    )


def build(config: RunConfig) -> Problem:
    """Data, model and seeded initial parameters of a config."""
    config = validate(config)
    data = make_data(config)
    if config.model == "tied" and data.d < 2:
        raise GDPerceptronError(f"the tied model needs d >= 2, the data have d = {data.d}")
    model = make_model(
        config.model,
        data.d,
        width=config.width,
        activation=config.activation,
        depth=config.depth,
        train_second_layer=config.train_second_layer,
    )
    theta0 = model.initial_params(config.seed, config.init_scale)
    return Problem(data, model, theta0)


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that determine the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("gdperceptron", "jax", "jaxlib", "numpy", "scipy", "scikit-learn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
