"""Experiment acceleration: the bounded best-step search against plain runs at every step
it tried, the gamma -> inf limit against the phase instrument's ``step_limit``, the LP
separability test, the counts against an independent NumPy LR+GD, and the verdict rules on
synthetic records made to pass, to be partly true and to fail."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import breast_cancer, digits, gaussian, make_dataset, run, two_layer
from gdperceptron.analysis.phase import step_limit
from gdperceptron.experiments import acceleration as acc
from gdperceptron.experiments import acceleration_stats as st
from gdperceptron.experiments import best_step as bs

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------ search


def test_lattice_is_a_quarter_decade():
    assert bs.lattice(0) == 1.0 and bs.lattice(4) == pytest.approx(10.0, rel=1e-15)
    for k in range(-12, 17):
        assert bs.lattice_floor(bs.lattice(k)) == k
        assert bs.lattice_floor(bs.lattice(k) * 1.01) == k


def test_search_agrees_with_unbounded_runs_at_every_step_it_tried():
    data = gaussian(100, 10, 0.05, seed=0)
    net = two_layer(data.d, 8, "relu")
    theta0 = net.initial_params(1)
    found = bs.search(net, data, theta0, start_k=-2, budget=1500)
    best = found["best_iterations"]
    assert best is not None and found["interior"]
    truth = {}
    for r in found["runs"]:
        traj = run(net, data, "gd", r["step"], theta0=theta0, max_iter=1500)
        truth[r["step"]] = traj.solved_iteration
        if r["iterations"] is not None:  # a bounded run that separated: the same count
            assert r["iterations"] == traj.solved_iteration
        else:  # not within its budget: with the full budget it needs more, or never does
            assert traj.solved_iteration is None or traj.solved_iteration > r["budget"]
    counts = [c for c in truth.values() if c is not None]
    assert best == min(counts)  # branch and bound loses no better step among those tried
    smallest = min(s for s, c in truth.items() if c == best)
    assert found["best_step"] == smallest  # ties go to the smaller step
    lo, hi = bs.steps_spanned(found)
    assert lo < found["best_step"] < hi


def test_search_walks_down_from_a_start_above_the_cliff():
    data = gaussian(100, 10, 0.05, seed=0)
    net = two_layer(data.d, 8, "relu")
    theta0 = net.initial_params(1)
    low = bs.search(net, data, theta0, start_k=-2, budget=1500)
    high = bs.search(net, data, theta0, start_k=bs.lattice_floor(low["best_step"]) + 4,
                     budget=1500)  # fmt: skip
    assert high["best_iterations"] == low["best_iterations"]
    assert high["best_step"] == low["best_step"]


def test_gamma_limit_equals_step_limit():
    data = breast_cancer(n=80, seed=2)
    for model, theta0 in (
        (acc.build_model("linear", data.d), np.zeros(data.d)),
        (two_layer(data.d, 4, "relu"), two_layer(data.d, 4, "relu").initial_params(0)),
    ):
        ours = bs.gamma_limit(model, data, theta0, 60)
        ref = step_limit(model, data, "gd", theta0, max_iter=60)
        assert ours["iterations"] == ref.iterations
    assert bs.gamma_limit(two_layer(data.d, 4, "tanh"), data, theta0, 10) is None


def test_counts_equal_numpy_lr_gd():
    data = digits((3, 8), n=100, seed=0)
    got = bs.attempt(acc.build_model("linear", data.d), data, np.zeros(data.d), 10.0, 500)
    A, n, v, t = data.A, data.n, np.zeros(data.d), 0
    while np.any(A @ v <= 0):
        v, t = v + 10.0 / n * expit(-(A @ v)) @ A, t + 1
    assert got["iterations"] == t and got["outcome"] == "solved"


def test_overflow_is_run_again_exactly():
    data = breast_cancer(n=80, seed=0)
    net = two_layer(data.d, 4, "relu")
    r = bs.attempt(net, data, net.initial_params(0), 1e6, 200)
    assert r["outcome"] != "non_finite" and r["engine"] == "scaled"
    tanh = two_layer(data.d, 4, "tanh")  # no degree: stays as the plain engine classifies
    assert bs.attempt(tanh, data, tanh.initial_params(0), 1e6, 50)["engine"] == "full"


def test_separable_by_lp():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.2]])
    assert acc.separable_by_lp(make_dataset(X, np.array([1.0, 1.0, -1.0])))
    # x and -x with the same label: no v through the origin has <v, x> > 0 and <v, -x> > 0
    Y = np.array([[1.0, 2.0], [-1.0, -2.0], [0.5, 0.1]])
    assert not acc.separable_by_lp(make_dataset(Y, np.array([1.0, 1.0, -1.0])))


# -------------------------------------------------------------------------- task lists


def test_tasks_without_fashion_mnist_are_skipped_with_a_reason():
    for quick in (True, False):
        tasks = acc.tasks_with_data(quick, None)
        skipped = [t for t in tasks if t["part"] == "skipped"]
        assert {t["data"] for t in skipped} == {"fashion-mnist 0v1", "fashion-mnist 2v4",
                                                "fashion-mnist 0v2"}  # fmt: skip
        assert all(t["reason"] for t in skipped)
        runs = [t for t in tasks if t["part"] == "run"]
        assert runs and all(t["data"] != acc.FMNIST and t["standardized"] for t in runs)
        assert len({(t["label"], t["seed"]) for t in runs}) == len(runs)  # one per set, seed
    assert len(acc.tasks_with_data(False, None)) >= 8
    note = acc.run_task(skipped[0])
    assert note["skipped"] is True and note["reason"]


@pytest.mark.skipif(not FMNIST_DIR.is_dir(), reason="Fashion-MNIST files not installed")
def test_tasks_with_fashion_mnist():
    tasks = acc.tasks_with_data(False, str(FMNIST_DIR.parent))
    fm = [t for t in tasks if t.get("data") == acc.FMNIST]
    assert fm and all(t["part"] == "run" and t["n"] >= 1000 for t in fm)
    assert all(t["models"] == list(acc.FMNIST_MODELS) for t in fm)
    assert acc.FMNIST_MODELS[0] == "linear" and len(acc.FMNIST_MODELS) >= 3
    assert {t["label"] for t in fm} == {"fashion-mnist 0v1", "fashion-mnist 2v4",
                                        "fashion-mnist 0v2"}  # fmt: skip


# ------------------------------------------------------------------------ verdict rules


def _seed(seed: int, best: int | None, step: float = 1.0) -> dict:
    run_ = {"step": step, "iterations": best, "outcome": "solved" if best else "max_iter",
            "budget": 100, "engine": "full", "k": 0}  # fmt: skip
    return {"seed": seed, "runs": [run_], "best_step": step if best else None,
            "best_iterations": best, "best_k": 0, "interior": True, "at_edge": False,
            "same_step": run_, "limit": None, "separable": True}  # fmt: skip


def _records(label: str, role: str, linear: list, models: dict) -> list:
    """One record per seed, as :func:`acc.run_task` writes them."""
    out = []
    for seed, lin in enumerate(linear):
        counts = {"linear": lin, **{k: v[seed] for k, v in models.items()}}
        params = {"part": "run", "label": label, "role": role, "seed": seed,
                  "models": list(counts)}  # fmt: skip
        result = {"skipped": False, "seed": seed,
                  "models": {k: _seed(seed, c) for k, c in counts.items()}}  # fmt: skip
        out.append((params, result))
    return out


LIN = [400, 420, 380, 410, 390]


def _verdicts(records: list) -> dict:
    records = json.loads(json.dumps(records))
    a = acc.analyze(records)
    json.dumps(a.numbers)
    return {c.number: c for c in a.claims}


def test_rule_reproduced_partly_and_not():
    fast = [100, 105, 95, 102, 98]  # 4x on every seed
    same = list(LIN)  # 1x
    for models, verdict in (
        ({"relu w16": fast, "tanh w16": fast}, "reproduced"),
        ({"relu w16": fast, "tanh w16": same}, "partly"),
        ({"relu w16": same, "tanh w16": [800, 840, 760, 820, 780]}, "not reproduced"),
    ):
        recs = _records("fashion-mnist 2v4", "hard", LIN, models)
        c = _verdicts(recs)["1"]
        assert c.verdict == verdict, c.line()
        if verdict == "partly":
            assert "relu w16" in c.condition and "tanh w16" not in c.condition
        if verdict == "not reproduced":
            assert "Slower than the linear model: tanh w16" in c.evidence


def test_rule_needs_the_interval_above_one():
    # geometric mean >= 2 but one seed 10x slower: the interval reaches below 1
    noisy = [20, 21, 19, 4100, 20]
    c = _verdicts(_records("fashion-mnist 0v1", "easy", LIN, {"relu w16": noisy}))["2"]
    assert c.verdict == "not reproduced", c.line()


def test_rule_unsolved_network_counts_as_infinitely_slow():
    c = _verdicts(_records("breast-cancer", "bundled", LIN,
                           {"relu w16": [None, 100, 100, 100, 100]}))["3"]  # fmt: skip
    assert c.verdict == "not reproduced"


def test_cannot_test_and_not_run():
    easy = _records("digits 3v8", "bundled", [6, 6, 5, 7, 6], {"relu w16": [2, 2, 2, 2, 2]})
    note = {"part": "skipped", "data": "fashion-mnist 2v4", "role": "hard", "reason": "no files"}
    skipped = [(note, {"skipped": True, "data": "fashion-mnist 2v4", "reason": "no files"})]
    v = _verdicts(easy + skipped)
    assert v["1"].verdict == "not run" and "no files" in v["1"].evidence
    assert v["3"].verdict == "not run" and "cannot test" in v["3"].evidence
    both = easy + _records("breast-cancer", "bundled", LIN, {"relu w16": [100] * 5})
    v = _verdicts(both)
    assert v["3"].verdict == "reproduced" and "digits 3v8: cannot test" in v["3"].evidence


def test_inseparable_seeds_are_not_testable():
    recs = _records("fashion-mnist 0v2", "hard", [None, None, None, 400, 410],
                    {"relu w16": [100] * 5})  # fmt: skip
    for _, r in recs[:3]:
        r["models"]["linear"]["separable"] = False
    c = _verdicts(recs)["1"]
    assert c.verdict == "not run" and "2 testable seeds" in c.evidence


def test_speedup_is_the_paired_geometric_mean():
    recs = _records("breast-cancer", "bundled", LIN, {"relu w16": [100, 210, 95, 205, 195]})
    comp = st.compare(st.collect(json.loads(json.dumps(recs)))["breast-cancer"])
    iv = comp["models"]["relu w16"]["speedup"]
    ratios = np.array(LIN) / np.array([100, 210, 95, 205, 195])
    assert iv.value == pytest.approx(math.exp(np.mean(np.log(ratios))), rel=1e-12)
    assert iv.low <= iv.value <= iv.high


def test_task_runs_linear_first_and_budgets_the_networks_from_it():
    params = {"part": "run", "label": "digits 3v8", "data": "digits", "classes": [3, 8],
              "n": 60, "role": "bundled", "start": [2, 0], "seed": 0,
              "models": ["linear", "relu w16"], "data_dir": None}  # fmt: skip
    res = json.loads(json.dumps(acc.run_task(params)))
    lin, net = res["models"]["linear"], res["models"]["relu w16"]
    assert lin["separable"] and lin["best_iterations"] is not None
    assert net["budget"] == max(3 * lin["best_iterations"], acc.MIN_BUDGET)
    data = digits((3, 8), n=60, seed=0)
    model = acc.build_model("relu w16", data.d)
    traj = run(model, data, "gd", net["best_step"], theta0=model.initial_params(0),
               max_iter=net["budget"])  # fmt: skip
    assert traj.solved_iteration == net["best_iterations"]


def _write_idx(path: Path, array: np.ndarray) -> None:
    dims = array.shape
    header = bytes([0, 0, 8, len(dims)]) + b"".join(int(k).to_bytes(4, "big") for k in dims)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_tasks_read_a_data_folder(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    _write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (6000, 28, 28)))
    _write_idx(folder / "train-labels-idx1-ubyte", np.arange(6000) % 10)
    tasks = acc.tasks_with_data(False, str(tmp_path))
    fm = [t for t in tasks if t.get("data") == acc.FMNIST]
    assert fm and all(t["part"] == "run" and t["data_dir"] == str(tmp_path) for t in fm)
    data = acc.load_data(fm[0], fm[0]["seed"])
    assert data.n == 1000 and data.d == 784 and data.info["standardized"]
