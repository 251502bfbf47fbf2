"""The test process computes its own references in float64 (a process of its own, like the
command line): x64 is switched on here, once. Tests of the package's behaviour with x64 off
switch it off in their own scope."""

import jax

jax.config.update("jax_enable_x64", True)


import json  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``name -> (experiment, records, analysis, figure stems, out folder)`` of the quick
    version of a registered experiment (every task, its JSON round trip, ``analyze`` and
    ``plot``), computed once per test session and shared by the test files."""
    from gdperceptron.experiments import get_experiment

    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            exp = get_experiment(name)
            params = [json.loads(json.dumps(p)) for p in exp.make_tasks(True, None)]
            records = [(p, json.loads(json.dumps(exp.run_task(p)))) for p in params]
            out = tmp_path_factory.mktemp(name)
            cache[name] = (exp, records, exp.analyze(records), exp.plot(records, out), out)
        return cache[name]

    return get
