"""PyTorch models through the generalized perceptron lens (docs/theory/reduction.md).

``gdperceptron.torch.run(module, X, y, algorithm, step, ...)`` runs the package's loop on
a ``torch.nn.Module`` with ``torch.func.functional_call`` and ``torch.func.vjp``, in
float64 on the module's device, and returns the same
:class:`~gdperceptron.engines.trajectory.Trajectory` as :func:`gdperceptron.run`. See
:mod:`gdperceptron.engines.torch_engine`. PyTorch is an optional extra
(``pip install 'gdperceptron[torch]'``), imported on the first run.
"""

from gdperceptron.engines.torch_engine import run

__all__ = ["run"]
