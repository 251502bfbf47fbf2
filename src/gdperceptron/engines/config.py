"""Run configurations: a frozen dataclass, its validation, and building a run from it.

A :class:`RunConfig` names the data, the model, the algorithm and every option; it is
what the CLI parses, what results carry (resolved, with package versions), and what
experiments hash to cache their tasks.
"""

from __future__ import annotations

import dataclasses
import math
import os
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
from gdperceptron.models.builtin import ACTIVATIONS, MODEL_NAMES, make_model
from gdperceptron.models.protocol import Model

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

# Which options each data set and each built-in model reads, and their defaults. An option
# set (not None) where it does not apply is an error, and a resolved config records only the
# options that apply: a config tells what determined the run, nothing else.
_IMAGE_OPTIONS = ("classes", "n", "data_dir")
DATA_OPTIONS: dict[str, tuple[str, ...]] = {
    "minimal": ("d", "mu"),
    "worst-case": ("n",),
    "loss-unreliable": (),
    "gaussian": ("n", "d", "margin"),
    "breast-cancer": ("n",),
    "digits": ("classes", "n"),
    "mnist": _IMAGE_OPTIONS,
    "fashion-mnist": _IMAGE_OPTIONS,
    "cifar10": _IMAGE_OPTIONS,
}
FILE_DATA_OPTIONS = ("label_column",)
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "tied": (),
    "two-layer": ("width", "activation", "train_second_layer"),
    "mlp": ("width", "depth", "activation"),
}
DEFAULTS: dict[str, Any] = {
    "d": 100,
    "mu": 1.0,
    "margin": 0.1,
    "classes": (0, 1),
    "width": 16,
    "activation": "relu",
    "depth": 3,
    "train_second_layer": True,
}
_N_DEFAULT = {"worst-case": 10, "gaussian": 100}
_ALL_DATA_OPTIONS = ("d", "mu", "n", "margin", "classes", "data_dir", "label_column")
_ALL_MODEL_OPTIONS = ("width", "activation", "depth", "train_second_layer")


def is_model_spec(model: str) -> bool:
    """A custom model given as ``path/to/file.py:factory`` or ``package.module:factory``."""
    return isinstance(model, str) and ":" in model


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run. Defaults: the minimal example with the tied model.

    ``data`` is a name of :data:`DATA_NAMES` or the path of a data file
    (:func:`gdperceptron.data.files.load_file`); ``model`` a name of ``MODEL_NAMES`` or a
    factory ``path/to/file.py:factory`` / ``package.module:factory`` whose ``factory(d)``
    returns a :class:`~gdperceptron.models.protocol.Model` or ``(apply_fn, params)``,
    recorded as given. Data and model options are ``None`` unless set: each applies only
    to the data sets / models that read it (:data:`DATA_OPTIONS`, :data:`MODEL_OPTIONS`),
    with the defaults of :data:`DEFAULTS`.
    """

    data: str = "minimal"
    model: str = "tied"
    algorithm: str = "gd"
    step: float = 1.0
    seed: int = 0
    max_iter: int = 10_000
    stop_when_solved: bool = True
    engine: str = "auto"
    # data options
    d: int | None = None
    mu: float | None = None
    n: int | None = None
    margin: float | None = None
    classes: tuple[int, int] | None = None
    data_dir: str | None = None
    label_column: int | None = None
    # model options
    width: int | None = None
    activation: str | None = None
    depth: int | None = None
    train_second_layer: bool | None = None
    init_scale: float | None = None
    record_error: bool = False

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed, validated."""
        return validate(dataclasses.replace(self, **changes))

    def option(self, name: str) -> Any:
        """The value of a data or model option: as set, else its default."""
        value = getattr(self, name)
        if value is not None:
            return value
        if name == "n":
            return _N_DEFAULT.get(self.data)
        return DEFAULTS.get(name)

    def to_dict(self) -> dict[str, Any]:
        """Every field as given (``None`` where unset)."""
        out = dataclasses.asdict(self)
        if self.classes is not None:
            out["classes"] = list(self.classes)
        return out

    def resolved(self, data: Dataset | None = None) -> dict[str, Any]:
        """The options that determine the run, defaults filled in, those that do not apply
        left out; with ``data``, its real ``d`` and ``n`` (a file or image set, a
        subsample)."""
        applies = set(_data_options(self.data)) | set(_model_options(self.model))
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            name = f.name
            if name in _ALL_DATA_OPTIONS or name in _ALL_MODEL_OPTIONS:
                if name not in applies:
                    continue
                value = self.option(name)
                if value is None:
                    continue
            else:
                value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        if data is not None:
            out["d"], out["n"] = data.d, data.n
        return out


def _is_file(data: str) -> bool:
    return isinstance(data, str) and data not in DATA_NAMES


def _data_options(data: str) -> tuple[str, ...]:
    return FILE_DATA_OPTIONS if _is_file(data) else DATA_OPTIONS.get(data, ())


def _model_options(model: str) -> tuple[str, ...]:
    return () if is_model_spec(model) else MODEL_OPTIONS.get(model, ())


# integer fields and their least value (None = unset allowed); real fields (positive?)
_INTEGER_FIELDS = {"seed": 0, "max_iter": 0, "d": 1, "n": 2, "width": 1, "depth": 2}
_REAL_FIELDS = {"mu": True, "margin": False, "init_scale": False}
MAX_DEPTH = 64  # compilation time grows with the number of layers


def _check_integer(value: Any, name: str, low: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float):
        raise GDPerceptronError(f"{name} must be an integer >= {low}, got {value!r}")
    if not math.isfinite(value) or int(value) != value or value < low:
        raise GDPerceptronError(f"{name} must be an integer >= {low}, got {value}")
    if name == "depth" and value > MAX_DEPTH:
        raise GDPerceptronError(f"depth must be at most {MAX_DEPTH}, got {value}")


def _check_real(value: Any, name: str, positive: bool) -> None:
    if value is None:
        return
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    if not ok or not math.isfinite(value) or value < 0 or (positive and value == 0):
        what = "a positive finite number" if positive else "a finite number >= 0"
        raise GDPerceptronError(f"{name} must be {what}, got {value!r}")


def validate(config: RunConfig) -> RunConfig:
    """Check names and ranges; raise :class:`GDPerceptronError` with a one-line message."""
    if not isinstance(config.data, str) or not config.data:
        raise GDPerceptronError(f"data must be a data set name or a file path, got {config.data!r}")
    if not isinstance(config.model, str) or not (
        config.model in MODEL_NAMES or is_model_spec(config.model)
    ):
        raise GDPerceptronError(
            f"unknown model {config.model!r}; choose one of {', '.join(MODEL_NAMES)} or give a "
            "factory as path/to/file.py:factory or package.module:factory"
        )
    for value, valid, what in (
        (config.algorithm, ALGORITHM_NAMES, "algorithm"),
        (config.engine, ENGINES, "engine"),
    ):
        if value not in valid:
            raise GDPerceptronError(f"unknown {what} {value!r}; choose one of {', '.join(valid)}")
    if config.activation is not None and config.activation not in ACTIVATIONS:
        raise GDPerceptronError(
            f"unknown activation {config.activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    what_data = f"data file {config.data!r}" if _is_file(config.data) else f"data {config.data!r}"
    for name in _ALL_DATA_OPTIONS:
        if getattr(config, name) is not None and name not in _data_options(config.data):
            raise GDPerceptronError(f"option {name} does not apply to {what_data}")
    for name in _ALL_MODEL_OPTIONS:
        if getattr(config, name) is not None and name not in _model_options(config.model):
            raise GDPerceptronError(f"option {name} does not apply to model {config.model!r}")
    check_step(config.step)
    for name, low in _INTEGER_FIELDS.items():
        _check_integer(getattr(config, name), name, low)
    for name, positive in _REAL_FIELDS.items():
        _check_real(getattr(config, name), name, positive)
    for name in ("stop_when_solved", "record_error", "train_second_layer"):
        value = getattr(config, name)
        if value is not None and not isinstance(value, bool | np.bool_):
            raise GDPerceptronError(f"{name} must be True or False, got {value!r}")
    if config.data_dir is not None and not isinstance(config.data_dir, str | os.PathLike):
        raise GDPerceptronError(f"data_dir must be a folder path, got {config.data_dir!r}")
    d = config.option("d")
    if config.model == "tied" and config.data in ("minimal", "gaussian") and d < 2:
        raise GDPerceptronError(f"the tied model needs d >= 2, got d = {d}")
    classes = config.option("classes")
    if classes is not None and (len(classes) != 2 or classes[0] == classes[1]):
        raise GDPerceptronError(f"classes must be two distinct labels, got {classes}")
    return config


class Problem(NamedTuple):
    """A built run: data set, model and initial parameters."""

    data: Dataset
    model: Model
    theta0: np.ndarray


def make_data(config: RunConfig) -> Dataset:
    """The data set a config names (or the data file it gives)."""
    name, opt = config.data, config.option
    if _is_file(name):
        from gdperceptron.data.files import load_file

        return load_file(name, label_column=config.label_column)
    if name == "minimal":
        return minimal_example(opt("d"), opt("mu"))
    if name == "worst-case":
        return worst_case(opt("n"))
    if name == "loss-unreliable":
        return loss_unreliable()
    if name == "gaussian":
        return gaussian(opt("n"), opt("d"), opt("margin"), seed=config.seed)
    from gdperceptron.data.loaders import load_named

    classes = opt("classes") if "classes" in DATA_OPTIONS[name] else None
    return load_named(name, data_dir=config.data_dir, classes=classes, n=config.n, seed=config.seed)


def make_run_model(config: RunConfig, d: int) -> Model:
    """The model a config names, for input dimension ``d``."""
    if is_model_spec(config.model):
        from gdperceptron.models.factory import model_from_factory

        return model_from_factory(config.model, d)
    opt = config.option
    return make_model(
        config.model,
        d,
        width=opt("width"),
        activation=opt("activation"),
        depth=opt("depth"),
        train_second_layer=opt("train_second_layer"),
    )


def build(config: RunConfig) -> Problem:
    """Data, model and seeded initial parameters of a config."""
    config = validate(config)
    data = make_data(config)
    if config.model == "tied" and data.d < 2:
        raise GDPerceptronError(f"the tied model needs d >= 2, the data have d = {data.d}")
    model = make_run_model(config, data.d)
    if model.init is None:
        if config.init_scale is not None:
            raise GDPerceptronError(
                f"option init_scale does not apply to model {config.model!r}: it was built "
                "from given parameters"
            )
        theta0 = model.params
    else:
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
