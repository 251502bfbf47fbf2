"""Benchmark: the per-step time of the run loop against hand-written steps, same process.

Ours: the loop's time per step, measured from outside as ``(T(N) - T(1)) / (N - 1)`` with
``T(N)`` the wall time of ``gdperceptron.run`` for ``N = 2 * chunk + 1`` steps
(``stop_when_solved=False``, one recorded iteration), so that set-up, the final margins
and compilation (warmed before) cancel. With a loop that runs whole chunks past the stop
both runs execute two more chunks, and the difference is still ``N - 1`` steps.

Baselines, each running the same ``N - 1`` steps from the same start:

- ``jax-XT``: a jitted ``fori_loop`` of the hand-written step with a stored ``X^T``
  (linear model; ``+ X^T n d`` bytes of memory);
- ``jax-vjp2``: a jitted ``fori_loop`` of one VJP of the margins with the two cotangents
  ``(w, sigma(-m))`` stacked (perceptron rules: the step and the logistic gradient that
  the loop records, in one pass over ``X``);
- ``jax-hand``: a jitted hand-written step (tied model; two-layer with a stored ``X^T``,
  ``jax-hand-XT``);
- ``numpy``: the hand-written step in NumPy (BLAS), one Python iteration per step (linear
  model; for the two-layer network NumPy's ``(n, 16)^T (n, d)`` product measured far
  slower than JAX and is left out to keep the benchmark short);
- ``numpy-fused``: the tied model's step in one pass over ``X`` per product (the swap
  ``P`` applied to ``w`` and to ``X^T c`` on two coordinates, ``w`` updated in place).

For the perceptron rules every baseline also computes ``||grad F||`` (the loop records it),
for the GD rule it is the step's own direction. Goal (docs: BENCHMARKS.md): ours <= 1.2x
the best baseline. Cases: linear and two-layer (width 16, ReLU) on Gaussian data of
Fashion-MNIST size (``n = 12000``, ``d = 784``), tied model on the minimal example at
``d = 10^6`` and ``d = 10^4``. Run::

    .venv/bin/python benchmarks/bench_step.py [--repeats 5] [--only linear-gd]
"""

from __future__ import annotations

import argparse
import functools

import numpy as np
import scipy.linalg.blas as blas
from scipy.special import expit
from timing import goal_line, interleaved, machine_line

from gdperceptron import gaussian, lambda2, linear, minimal_example, run, tied, two_layer
from gdperceptron._jax import jax, jnp

GOAL = 1.2
jax.config.update("jax_enable_x64", True)  # a process of its own: baselines in float64 too


def _weights(m, hard: bool, xp):
    """Hard perceptron weights, or the logistic ones ``sigma(-m)``."""
    if hard:
        return xp.where(m < 0, 1.0, xp.where(m == 0, 0.5, 0.0))
    return expit(-m) if xp is np else jax.nn.sigmoid(-m)


# ------------------------------------------------------------------ JAX baselines


@functools.partial(jax.jit, static_argnames=("steps", "hard"))
def _jax_linear_xt(v, X, XT, y, eta, steps, hard):
    def body(_, carry):
        v, acc = carry
        m = y * (X @ v)
        if hard:
            C = jnp.stack([y * _weights(m, True, jnp), y * _weights(m, False, jnp)], axis=1)
            G = XT @ C  # (d, 2): one pass over X^T
            return v + eta * G[:, 0], acc + jnp.linalg.norm(G[:, 1])
        return v + eta * (XT @ (y * _weights(m, False, jnp))), acc

    return jax.lax.fori_loop(0, steps, body, (v, 0.0))


@functools.partial(jax.jit, static_argnames=("apply", "steps", "hard"))
def _jax_vjp2(theta, X, y, eta, apply, steps, hard):
    """One VJP of the margins, the cotangents (hard weights, sigma(-m)) stacked."""

    def body(_, carry):
        th, acc = carry
        m, vjp = jax.vjp(lambda t: y * apply(t, X), th)
        W = jnp.stack([_weights(m, hard, jnp), _weights(m, False, jnp)])
        G = jax.vmap(lambda c: vjp(c)[0])(W)
        return th + eta * G[0], acc + jnp.linalg.norm(G[1])

    return jax.lax.fori_loop(0, steps, body, (theta, 0.0))


@functools.partial(jax.jit, static_argnames=("width", "steps", "hard"))
def _jax_two_layer(theta, X, XT, y, eta, width, steps, hard):
    d = X.shape[1]

    def body(_, carry):
        th, acc = carry
        W, u = th[: width * d].reshape(width, d), th[width * d :]
        H = X @ W.T
        A = jax.nn.relu(H)
        m = y * (A @ u)
        ws = [_weights(m, hard, jnp)] + ([_weights(m, False, jnp)] if hard else [])
        C = jnp.stack([y * w for w in ws], axis=1)  # (n, r)
        gu = (A.T @ C).T  # (r, width)
        gH = (C[:, :, None] * u[None, None, :]) * (H > 0)[:, None, :]  # (n, r, width)
        gW = (XT @ gH.reshape(X.shape[0], -1)).T.reshape(len(ws), width * d)  # one pass
        G = jnp.concatenate([gW, gu], axis=1)
        acc = acc + (jnp.linalg.norm(G[1]) if hard else 0.0)
        return th + eta * G[0], acc

    return jax.lax.fori_loop(0, steps, body, (theta, 0.0))


@functools.partial(jax.jit, static_argnames=("steps", "hard"))
def _jax_tied(theta, X, y, eta, steps, hard):
    dx = X[:, 0] - X[:, 1]

    def body(_, carry):
        th, acc = carry
        u1, u2, w = th[0], th[1], th[2:]
        a = X @ w
        b = a + (w[1] - w[0]) * dx  # <w, P x_i> for the swap of coordinates 0 and 1
        m = y * (u1 * a + u2 * b)
        ws = [_weights(m, hard, jnp)] + ([_weights(m, False, jnp)] if hard else [])
        C = jnp.stack([y * w_ for w_ in ws])  # (r, n)
        V = C @ X  # (r, d): X^T c in one pass
        PV = V.at[:, 0].set(V[:, 1]).at[:, 1].set(V[:, 0])
        G = jnp.concatenate([C @ a[:, None], C @ b[:, None], u1 * V + u2 * PV], axis=1)
        acc = acc + (jnp.linalg.norm(G[1]) if hard else 0.0)
        return th + eta * G[0], acc

    return jax.lax.fori_loop(0, steps, body, (theta, 0.0))


# ---------------------------------------------------------------- NumPy baselines


def _np_linear(v, X, y, eta, steps, hard):
    v = v.copy()
    for _ in range(steps):
        m = y * (X @ v)
        if hard:
            C = np.stack([y * _weights(m, True, np), y * _weights(m, False, np)], axis=1)
            G = X.T @ C
            np.linalg.norm(G[:, 1])
            blas.daxpy(G[:, 0].copy(), v, a=eta)
        else:
            blas.daxpy(X.T @ (y * _weights(m, False, np)), v, a=eta)
    return v


def _np_tied_fused(theta, X, y, eta, steps, hard):
    """One read of ``X`` per product: ``a_i = <x_i, w>`` row by row, ``X^T C`` by einsum,
    ``w`` updated in place through a preallocated buffer (no temporaries of size d)."""
    th = theta.copy()
    w = th[2:]  # a view: updated in place
    dx = X[:, 0] - X[:, 1]
    buf = np.empty_like(w)
    for _ in range(steps):
        u1, u2 = th[0], th[1]
        a = np.array([row @ w for row in X])
        b = a + (w[1] - w[0]) * dx
        m = y * (u1 * a + u2 * b)
        ws = [_weights(m, hard, np)] + ([_weights(m, False, np)] if hard else [])
        C = np.stack([y * w_ for w_ in ws])
        V = np.einsum("ri,ij->rj", C, X)  # (r, d), one pass over X
        if hard:  # ||grad F||: w-part ||u1 v + u2 P v|| on two coordinates and the rest
            v = V[1]
            head = np.array([u1 * v[0] + u2 * v[1], u1 * v[1] + u2 * v[0]])
            rest = abs(u1 + u2) * np.linalg.norm(v[2:])
            np.sqrt(head @ head + rest**2 + (C[1] @ a) ** 2 + (C[1] @ b) ** 2)
        v = V[0]
        g_u = (C[0] @ a, C[0] @ b)
        v0, v1 = v[0], v[1]
        np.multiply(v, eta * (u1 + u2), out=buf)  # w += eta (u1 + u2) v, then coords 0, 1
        np.add(w, buf, out=w)
        w[0] += eta * (u2 * (v1 - v0))
        w[1] += eta * (u2 * (v0 - v1))
        th[0] += eta * g_u[0]
        th[1] += eta * g_u[1]
    return th


# ------------------------------------------------------------------------ cases


def _case(name: str):
    """(model, data, step gamma, chunk, algorithm, baselines: name -> fn(steps))."""
    family, rule = name.rsplit("-", 1)
    hard = rule == "perceptron"
    algorithm = "perceptron" if hard else "gd"
    if family in ("linear", "two-layer"):
        data = gaussian(12_000, 784, seed=0)
        gamma, chunk = 1.0, (32 if family == "linear" else 16)
    else:
        d = {"tied-1e6": 10**6, "tied-1e4": 10**4}[family]
        data = minimal_example(d)
        gamma, chunk = 1.0 / lambda2(d), (16 if d >= 10**6 else 256)
    X, y = data.X, data.y
    eta = gamma / data.n
    jX, jy = jnp.asarray(X), jnp.asarray(y)
    base: dict = {}
    if family == "linear":
        model = linear(data.d)
        theta0 = np.zeros(data.d)
        jXT = jnp.asarray(np.ascontiguousarray(X.T))
        jt = jnp.asarray(theta0)
        base["jax-XT"] = lambda s: _jax_linear_xt(jt, jX, jXT, jy, eta, s, hard)
        base["numpy"] = lambda s: _np_linear(theta0, X, y, eta, s, hard)
    elif family == "two-layer":
        model = two_layer(data.d, 16)
        theta0 = model.initial_params(0)
        jt = jnp.asarray(theta0)
        jXT = jnp.asarray(np.ascontiguousarray(X.T))
        base["jax-hand-XT"] = lambda s: _jax_two_layer(jt, jX, jXT, jy, eta, 16, s, hard)
    else:
        model = tied(data.d)
        theta0 = model.initial_params(0)
        jt = jnp.asarray(theta0)
        base["jax-hand"] = lambda s: _jax_tied(jt, jX, jy, eta, s, hard)
        base["numpy-fused"] = lambda s: _np_tied_fused(theta0, X, y, eta, s, hard)
    if hard and family != "tied-1e6" and family != "tied-1e4":
        jt2 = jnp.asarray(theta0)
        base["jax-vjp2"] = lambda s: _jax_vjp2(jt2, jX, jy, eta, model.apply, s, hard)
    return model, data, gamma, chunk, algorithm, theta0, base


def _block(out):
    return jax.block_until_ready(out) if isinstance(out, tuple) else out


def bench(name: str, repeats: int) -> dict:
    model, data, gamma, chunk, algorithm, theta0, base = _case(name)
    n_steps = 2 * chunk + 1

    def ours(steps: int):
        return lambda: run(
            model,
            data,
            algorithm,
            gamma,
            theta0=theta0,
            max_iter=steps,
            stop_when_solved=False,
            record_every=steps,
            chunk=chunk,
        )

    fns = {"ours-N": ours(n_steps), "ours-1": ours(1)}
    fns.update({k: (lambda f=f: _block(f(n_steps - 1))) for k, f in base.items()})
    for f in fns.values():  # compile and warm every side before timing
        f()
    # every baseline takes the same steps as the loop: same parameters after N - 1 steps
    ref = ours(n_steps - 1)().final_params
    for k, f in base.items():
        got = f(n_steps - 1)
        got = np.asarray(got[0] if isinstance(got, tuple) else got)
        if not np.allclose(got, ref, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{name}: baseline {k} does not follow the loop's steps")
    med = interleaved(fns, repeats)
    per_step = {k: med[k] / (n_steps - 1) for k in base}
    ours_step = (med["ours-N"] - med["ours-1"]) / (n_steps - 1)
    best = min(per_step, key=per_step.get)
    return {"case": name, "ours": ours_step, "baselines": per_step, "best": best}


CASES = (
    "linear-gd",
    "linear-perceptron",
    "two-layer-gd",
    "two-layer-perceptron",
    "tied-1e6-gd",
    "tied-1e6-perceptron",
    "tied-1e4-gd",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=CASES, action="append", help="run only these cases")
    args = parser.parse_args()
    print(machine_line())
    for name in args.only or CASES:
        r = bench(name, args.repeats)
        bases = ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in r["baselines"].items())
        print(f"{name}: ours {r['ours'] * 1e3:.3f} ms/step; {bases}")
        ratio = r["ours"] / r["baselines"][r["best"]]
        print("  " + goal_line(f"{name} step", ratio, GOAL, baseline=r["best"]))


if __name__ == "__main__":
    main()
