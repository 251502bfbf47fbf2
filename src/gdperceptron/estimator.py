"""A scikit-learn compatible classifier: GD on the logistic loss as a fitted estimator.

:class:`GDClassifier` is a thin wrapper around :func:`gdperceptron.run` (docs/theory/setting.md,
docs/theory/reduction.md, docs/theory/models.md): it
maps two-class labels to {-1, +1}, builds a model with :func:`gdperceptron.make_model`,
runs a generalized perceptron from seeded initial parameters and keeps the whole
:class:`~gdperceptron.Trajectory`. The run stops at the first iteration that separates
the training data (every margin ``y_i f(x_i; theta) > 0``, docs/theory/setting.md) or after
``max_iter``
steps. The core of the library stays the pure run loop; this class only adapts it to
``fit`` / ``predict`` for pipelines and model selection.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import warnings
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Tags, check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from gdperceptron._jax import jnp
from gdperceptron.data.synthetic import make_dataset
from gdperceptron.engines.compilation_cache import enable_persistent_cache
from gdperceptron.engines.config import ENGINES
from gdperceptron.engines.trajectory import Trajectory, run
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import Model, make_model

# Checks of sklearn.utils.estimator_checks.check_estimator that this estimator fails for a
# mathematical reason (check name -> reason). Empty: every check passes.
expected_failed_checks: dict[str, str] = {}

# Seeds drawn from ``random_state`` lie in [0, _SEED_BOUND).
_SEED_BOUND = 2**31 - 1
_MAX_ITER = 10**10  # steps of one fit
_MAX_SIZE = 2**28  # hidden width (parameter arrays stay below 2^28 * d numbers)
_MAX_DEPTH = 64  # compilation time grows with the number of layers


def _is_real(value: Any) -> bool:
    """A real number (bools and complex numbers are not)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


class GDClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier trained by a generalized perceptron run (default: plain GD on the
    logistic loss, docs/theory/reduction.md).

    Fitting runs ``theta_{t+1} = theta_t + eta_t sum_i w_i(theta_t) grad m_i(theta_t)``
    with ``m_i = y_i f(x_i; theta)`` and ``y_i = -1`` for ``classes_[0]``, ``+1`` for
    ``classes_[1]``; for ``algorithm="gd"`` this is ``theta_{t+1} = theta_t - step *
    grad F(theta_t)``, ``F`` the mean logistic loss. There is no intercept and no
    regularisation: for an affine linear classifier add a constant feature (e.g.
    ``FunctionTransformer(sklearn.preprocessing.add_dummy_feature)`` in a pipeline).

    Args:
        model: ``"linear"`` (``f = <v, x>``), ``"tied"``, ``"two-layer"`` or ``"mlp"``
            (docs/theory/models.md, :func:`gdperceptron.make_model`), or a
            :class:`~gdperceptron.Model` (e.g. from :func:`gdperceptron.from_apply`): it is
            run as given, from its seeded initialiser or, built from parameters, from them.
        algorithm: ``"gd"``, ``"perceptron"``, ``"normalized-gd"`` or
            ``"normalized-perceptron"`` (docs/theory/reduction.md table).
        step: the step ``gamma > 0``.
        max_iter: the largest number of steps.
        width: hidden width of ``"two-layer"`` and ``"mlp"``.
        activation: activation of ``"two-layer"`` and ``"mlp"``.
        depth: number of weight layers of ``"mlp"``.
        init_scale: scale of the initial parameters; ``None`` takes the model's default
            (0 for ``"linear"``, i.e. ``theta_0 = 0``; 1 for the others).
        random_state: ``None``, an int or a ``numpy.random.RandomState``. The initial
            parameters are ``model.initial_params(seed_, init_scale)`` with
            ``seed_ = check_random_state(random_state).randint(2**31 - 1)``; an int gives
            the same ``theta_0`` on every fit, ``None`` a fresh one.
        engine: ``"full"`` runs in the original ``d`` dimensions; ``"reduced"`` (always)
            and ``"auto"`` (when ``n < d``; ``2n < d`` for ``"tied"``) use the exact
            low-dimensional simulator ``gdperceptron.reduced.run_reduced``
            (docs/theory/minimal-example.md),
            falling back to the full run where it is not available. Both give the same
            iterates up to rounding; ``trajectory_.config["engine"]`` says which ran.
        stop_when_separated: stop at the first iteration that separates the training
            data; ``False`` runs all ``max_iter`` steps.
        bucket_samples: pad the training set (full engine) with left-out zero rows to one
            of a few sizes (:func:`bucket_size`), so that fits of nearby sizes, such as the
            folds and the refit of a cross-validated search, share one compiled run loop.
            The full engine always adds its sums over samples in an order that such rows
            do not change (``gdperceptron.run(..., padding_invariant=True)``), so the
            padded fit is bit for bit the unpadded one; ``False`` compiles for the exact
            size.

    Attributes:
        classes_: the two labels, sorted; ``classes_[0]`` is the ``-1`` class.
        params_: the fitted flat parameters ``theta``, shape ``(p,)``.
        coef_: linear model only: ``params_`` as shape ``(1, n_features_in_)``, like the
            binary linear classifiers of scikit-learn (the ``+1`` class is ``classes_[1]``).
        n_iter_: number of steps taken.
        solved_: whether ``params_`` separate the training data (every margin ``> 0``).
        trajectory_: the :class:`~gdperceptron.Trajectory` of the run.
        seed_: the seed of the initial parameters.
        n_features_in_: number of features seen in ``fit``.
        feature_names_in_: feature names, when ``X`` had string column names.

    ``fit`` switches on JAX's persistent compilation cache
    (:func:`gdperceptron.engines.compilation_cache.enable_persistent_cache`; opt out with
    ``GDPERCEPTRON_NO_COMPILATION_CACHE=1``), so that a search in a new process reuses the
    compiled run loops of earlier ones.

    Warns:
        ConvergenceWarning: once per fit, when ``params_`` do not separate the training
            data (non-separable data, or too few steps).

    Example:
        >>> import numpy as np
        >>> from gdperceptron.estimator import GDClassifier
        >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [-1.0, -2.0], [-2.0, -1.0]])
        >>> clf = GDClassifier().fit(X, ["no", "no", "yes", "yes"])
        >>> clf.solved_, clf.n_iter_, clf.predict([[3.0, 3.0], [-3.0, -3.0]]).tolist()
        (True, 1, ['no', 'yes'])
    """

    def __init__(
        self,
        *,
        model: str | Model = "linear",
        algorithm: str = "gd",
        step: float = 1.0,
        max_iter: int = 1000,
        width: int = 16,
        activation: str = "relu",
        depth: int = 3,
        init_scale: float | None = None,
        random_state: Any = None,
        engine: str = "auto",
        stop_when_separated: bool = True,
        bucket_samples: bool = True,
    ) -> None:
        self.model = model
        self.algorithm = algorithm
        self.step = step
        self.max_iter = max_iter
        self.width = width
        self.activation = activation
        self.depth = depth
        self.init_scale = init_scale
        self.random_state = random_state
        self.engine = engine
        self.stop_when_separated = stop_when_separated
        self.bucket_samples = bucket_samples

    def __sklearn_tags__(self) -> Tags:
        """Binary only (``fit`` raises on more than two classes), dense finite input."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any) -> GDClassifier:
        """Run the generalized perceptron on ``(X, y)``.

        Args:
            X: features, shape ``(n, d)``, finite; sparse matrices are not supported.
            y: labels of exactly two classes, shape ``(n,)``.

        Returns:
            ``self``, fitted.

        Raises:
            ValueError: on malformed input, sparse ``X``, NaN/inf, one class or more than
                two classes, bad options, or parameters that became non-finite.
        """
        self._check_params()
        enable_persistent_cache()  # compiled run loops shared across fits and processes
        if isinstance(y, list | tuple | np.ndarray) and np.iscomplexobj(np.asarray(y)):
            raise GDPerceptronError("y must hold real or text labels: Complex data not supported")
        X, y = validate_data(self, X, y, accept_sparse=False, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}."
            )
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(
                f"GDClassifier needs samples of two classes; got one class: {classes.tolist()}"
            )
        if self.engine not in ENGINES or self.engine == "scaled":
            # the scaled engine's parameters can leave the float64 range: no params_ then
            engines = [e for e in ENGINES if e != "scaled"]
            raise GDPerceptronError(
                f"unknown engine {self.engine!r}; choose one of {', '.join(engines)}"
            )
        signed = np.where(y == classes[1], 1.0, -1.0)
        data = make_dataset(X, signed, "sklearn")
        spec = self._model_spec()
        if spec["name"] == "tied" and data.d < 2:
            raise ValueError(f"the tied model needs at least 2 features; got {data.d} feature(s)")
        model = _build_model(spec, data.d)
        seed = int(check_random_state(self.random_state).randint(_SEED_BOUND))
        if model.init is None:  # a model built from given parameters starts from them
            theta0 = np.asarray(model.params, dtype=np.float64)
        else:
            theta0 = model.initial_params(seed, self.init_scale)
        traj = self._simulate(model, data, theta0)
        if traj.stop_reason == "non_finite":
            raise GDPerceptronError(
                f"the parameters became non-finite after {traj.n_steps} steps with "
                f"step={self.step}; use a smaller step"
            )

        self.classes_ = classes
        self.params_ = np.array(traj.final_params, dtype=np.float64)
        if spec["name"] == "linear":
            self.coef_ = self.params_.reshape(1, -1)
        self.n_iter_ = int(traj.n_steps)
        self.solved_ = bool(np.all(traj.final_margins > 0))
        self.trajectory_ = traj
        self.seed_ = seed
        self._spec = spec
        if not self.solved_:
            warnings.warn(
                f"GDClassifier did not separate the training data: after {self.n_iter_} "
                f"steps (max_iter={self.max_iter}) {int(np.sum(traj.final_margins <= 0))} "
                f"of {data.n} samples have a margin <= 0. The data may not be separable "
                "by this model; increase max_iter or step, or use another model.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _check_params(self) -> None:
        """Each constructor parameter of the right type and range; one clear error that
        names the parameter otherwise."""
        from gdperceptron.engines.algorithms import ALGORITHM_NAMES
        from gdperceptron.models.builtin import ACTIVATIONS, MODEL_NAMES

        for name, valid in (
            ("model", MODEL_NAMES),
            ("algorithm", ALGORITHM_NAMES),
            ("activation", tuple(ACTIVATIONS)),
            ("engine", ENGINES),
        ):
            value = getattr(self, name)
            if name == "model" and isinstance(value, Model):
                continue  # a gdperceptron Model, run as given
            if not isinstance(value, str) or value not in valid:
                raise GDPerceptronError(f"{name} must be one of {', '.join(valid)}; got {value!r}")
        for name, low, high in (
            ("max_iter", 0, _MAX_ITER),
            ("width", 1, _MAX_SIZE),
            ("depth", 2, _MAX_DEPTH),
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or not low <= value <= high
            ):
                raise GDPerceptronError(
                    f"{name} must be an integer in {low}..{high:.6g}; got {value!r}"
                )
        if not _is_real(self.step) or not 0 < self.step < np.inf:
            raise GDPerceptronError(f"step must be a positive finite number; got {self.step!r}")
        scale = self.init_scale
        if scale is not None and (not _is_real(scale) or not 0 <= scale < np.inf):
            raise GDPerceptronError(
                f"init_scale must be None or a finite number >= 0; got {scale!r}"
            )
        if not isinstance(self.stop_when_separated, bool | np.bool_):
            raise GDPerceptronError(
                f"stop_when_separated must be True or False; got {self.stop_when_separated!r}"
            )
        if not isinstance(self.bucket_samples, bool | np.bool_):
            raise GDPerceptronError(
                f"bucket_samples must be True or False; got {self.bucket_samples!r}"
            )

    def _model_spec(self) -> dict[str, Any]:
        """The options that determine the model, frozen at fit time (a given
        :class:`~gdperceptron.Model` is the model itself)."""
        if isinstance(self.model, Model):
            return {"name": None, "model": self.model}
        return {
            "name": self.model,
            "width": self.width,
            "activation": self.activation,
            "depth": self.depth,
        }

    def _simulate(self, model: Model, data: Any, theta0: np.ndarray) -> Trajectory:
        """Run with the chosen engine: ``reduced`` always, ``auto`` when the reduced
        coordinates are surely fewer than ``d`` (``n < d``; ``2n < d`` for the tied model)
        use ``gdperceptron.reduced.run_reduced`` with ``lift_params=True`` (``params_`` are
        always the full ``theta``); both fall back to the full run while that function does
        not exist. ``trajectory_.config["engine"]`` says which engine ran."""
        kwargs = {
            "theta0": theta0,
            "max_iter": self.max_iter,
            "stop_when_solved": bool(self.stop_when_separated),
        }
        full = {**kwargs, "padding_invariant": True}
        # k <= n reduced coordinates (k <= 2n with an involution: span{x_i, P x_i}); only a
        # model that declares its first layer can be reduced
        layer = model.first_layer
        k_max = 2 * data.n if layer is not None and layer.involution is not None else data.n
        reducible = layer is not None or self.engine == "reduced"
        wanted = reducible and (
            self.engine == "reduced" or (self.engine == "auto" and k_max < data.d)
        )
        run_reduced = _reduced_runner() if wanted else None
        if run_reduced is None:
            if self.bucket_samples:
                traj = _run_padded(model, data, self.algorithm, self.step, **full)
            else:
                traj = run(model, data, self.algorithm, self.step, **full)
            return dataclasses.replace(traj, config={**traj.config, "engine": "full"})
        traj = run_reduced(model, data, self.algorithm, self.step, lift_params=True, **kwargs)
        if np.shape(traj.final_params) != (model.n_params,):
            raise GDPerceptronError(
                f"the reduced simulator returned parameters of shape "
                f"{np.shape(traj.final_params)}, expected ({model.n_params},)"
            )
        return traj

    # --------------------------------------------------------------- prediction

    def decision_function(self, X: Any) -> np.ndarray:
        """``f(x; params_)`` for each row of ``X``, shape ``(n,)``; positive means
        ``classes_[1]``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=False, dtype=np.float64)
        model = _build_model(self._spec, self.n_features_in_)
        return np.asarray(model.apply(jnp.asarray(self.params_), jnp.asarray(X)), np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where ``f(x) > 0``, else ``classes_[0]``; shape ``(n,)``."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(np.intp)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[sigma(-f), sigma(f)]`` per row, shape ``(n, 2)``, columns in the order of
        ``classes_``. ``sigma`` is ``scipy.special.expit``, stable for any ``|f|``."""
        f = self.decision_function(X)
        return np.column_stack([expit(-f), expit(f)])


# Data sets of at most this many entries (n x d) are padded to one size, the largest power
# of two of rows that stays within it: small fits (cross-validation folds, the refit) then
# share one compiled run loop; a step over 2**15 entries costs microseconds.
_SMALL_ENTRIES = 2**15


def bucket_size(n: int, d: int) -> int:
    """The number of rows a fit on ``n`` samples of ``d`` features is padded to.

    ``n`` rounded up to the next of four sizes per octave (``2^k * {5/4, 3/2, 7/4, 2}`` for
    ``2^k < n <= 2^(k+1)``: at most 25 % more rows), and at least the largest power of two
    ``b`` with ``b * d <= 2**15``, so that every fold and the refit of a search on a small
    data set have one shape (breast cancer, 569 x 30: 1024 rows).
    """
    n, d = int(n), max(int(d), 1)
    step = 1 << max((n - 1).bit_length() - 3, 0)
    size = -(-n // step) * step
    small = 1 << max((_SMALL_ENTRIES // d).bit_length() - 1, 0)
    return max(size, small)


def _run_padded(model: Model, data: Any, algorithm: str, step: float, **kwargs: Any):
    """:func:`gdperceptron.run` on ``data`` padded with zero rows to :func:`bucket_size`,
    the padding left out through ``sample_mask`` (the loss, the plain step and the
    separation test count the real samples only): fits of nearby sizes share one
    compilation. With ``padding_invariant=True`` the padded rows change no bit of the
    trajectory. ``trajectory_.config["n_padded"]`` records the padded size."""
    n, d = data.X.shape
    size = bucket_size(n, d)
    X = np.zeros((size, d))
    X[:n] = data.X
    y = np.ones(size)
    y[:n] = data.y
    padded = make_dataset(X, y, data.name, data.info)
    traj = run(model, padded, algorithm, step, sample_mask=np.arange(size) < n, **kwargs)
    return dataclasses.replace(traj, config={**traj.config, "n_padded": size})


def _make_model(name: str, width: int, activation: str, depth: int, d: int) -> Model:
    return make_model(name, d, width=width, activation=activation, depth=depth)


# Built models kept alive: the run loop's compilations live as long as the model's apply
# object, so every fit with the same options (the folds of a search) reuses them.
_cached_model = functools.lru_cache(maxsize=16)(_make_model)


def _build_model(spec: dict[str, Any], d: int) -> Model:
    if "model" in spec:
        model = spec["model"]
        if model.d is not None and model.d != d:
            raise ValueError(f"the model expects {model.d} features; X has {d} feature(s)")
        return model
    key = (spec["name"], spec["width"], spec["activation"], spec["depth"], d)
    try:
        hash(key)
    except TypeError:  # an unhashable option: make_model reports it
        return _make_model(*key)
    return _cached_model(*key)


def _reduced_runner() -> Any:
    """``gdperceptron.reduced.run_reduced``, or ``None`` while it does not exist (imported
    lazily: the reduced simulator is optional for this wrapper)."""
    try:
        module = importlib.import_module("gdperceptron.engines.reduced")
    except ModuleNotFoundError as err:
        if err.name == "gdperceptron.engines.reduced":
            return None
        raise
    return getattr(module, "run_reduced", None)
