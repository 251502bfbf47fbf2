"""Custom models named on the command line or in a config: ``path/to/file.py:factory`` or
``package.module:factory``.

``factory(d)`` receives the data's input dimension and returns a
:class:`~gdperceptron.models.protocol.Model` or a pair ``(apply_fn, params)`` (turned into
one by :func:`~gdperceptron.models.protocol.from_apply`). The spec is recorded in the
config as given, so a run is reproducible from its config. Loading a file runs its code:
name only files you trust, as with any Python import.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, from_apply


def _module_from_file(path: Path) -> Any:
    if not path.is_file():
        raise GDPerceptronError(f"model file {str(path)!r} does not exist")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_gdperceptron_model_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GDPerceptronError(f"model file {str(path)!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise GDPerceptronError(
            f"model file {str(path)!r} failed to import: {type(err).__name__}: {err}"
        ) from None
    return module


def load_factory(spec: str) -> Callable[[int], Any]:
    """The callable that ``spec`` (``file.py:name`` or ``package.module:name``) names."""
    if not isinstance(spec, str) or spec.count(":") < 1:
        raise GDPerceptronError(
            f"a custom model is given as path/to/file.py:factory or package.module:factory, "
            f"got {spec!r}"
        )
    where, _, attr = spec.rpartition(":")
    if not where or not attr.isidentifier():
        raise GDPerceptronError(f"model factory {spec!r} must end in ':<function name>'")
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _module_from_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as err:
            raise GDPerceptronError(f"model module {where!r} cannot be imported: {err}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise GDPerceptronError(f"{where!r} has no callable {attr!r}")
    return factory


def model_from_factory(spec: str, d: int) -> Model:
    """``factory(d)`` of the factory ``spec`` names, as a :class:`Model` whose input
    dimension is ``d``."""
    factory = load_factory(spec)
    try:
        made = factory(d)
    except GDPerceptronError:
        raise
    except Exception as err:
        raise GDPerceptronError(
            f"model factory {spec!r} failed for d = {d}: {type(err).__name__}: {err}"
        ) from None
    if isinstance(made, Model):
        model = made
    elif isinstance(made, tuple) and len(made) == 2 and callable(made[0]):
        model = from_apply(made[0], made[1], name=spec, d=d)
    else:
        raise GDPerceptronError(
            f"model factory {spec!r} must return a Model or (apply_fn, params), "
            f"got {type(made).__name__}"
        )
    if model.d is not None and model.d != d:
        raise GDPerceptronError(
            f"model factory {spec!r} returned a model for d = {model.d}, the data have d = {d}"
        )
    return model
