"""Executors: run a pure task function over many params and yield results as they finish.

Two executors share one interface, ``outcomes(run_task, params_list) -> Iterator[Outcome]``
and ``close()``:

* :class:`LocalExecutor` (``local``, the default): a ``ProcessPoolExecutor`` with the
  ``spawn`` start method (JAX is not fork-safe), results in completion order
  (``as_completed``); with one worker the tasks run in this process, one after another.
* :class:`RayExecutor` (``ray``): the same task function as Ray remote tasks, results in
  completion order (``ray.wait``); a given cluster address or ``RAY_ADDRESS``, else a new
  local instance that is shut down on ``close()``.

Tasks are pure functions of their params, so both give identical results. The worker
wrapper :func:`call_task` turns the result into JSON text and an exception into its
traceback text, so nothing but strings and numbers crosses process boundaries. When the
consumer is interrupted (Ctrl-C, SIGTERM), pending tasks are cancelled and running ones
stopped. Spawned workers also watch their parent: when it dies (even by ``kill -9``) they
exit within :data:`PARENT_POLL_S` seconds instead of living on as orphans.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, NamedTuple, Protocol

from gdperceptron.engines.compilation_cache import enable_persistent_cache
from gdperceptron.errors import GDPerceptronError
from gdperceptron.experiments.base import Params, Result
from gdperceptron.pipeline.cache import now_iso, to_json

EXECUTORS = ("local", "ray")
PARENT_POLL_S = 0.25
TaskFn = Callable[[Params], Result]


class Outcome(NamedTuple):
    """One finished task: ``index`` into the submitted list, and either ``result`` (JSON
    text) or ``error`` (traceback text); times measured where the task ran."""

    index: int
    result: str | None
    error: str | None
    started: str
    finished: str
    duration_s: float
    versions: str


@functools.cache
def _versions_json() -> str:
    from gdperceptron.engines.config import versions

    return json.dumps(versions(), sort_keys=True)


def call_task(run_task: TaskFn, params: Params) -> tuple[Any, ...]:
    """Run one task; return the fields of :class:`Outcome` after ``index``.

    An exception inside the task is returned as its traceback text, not raised.
    """
    from gdperceptron._jax import x64

    started, t0 = now_iso(), time.perf_counter()
    text: str | None = None
    error: str | None = None
    try:
        with x64():  # tasks compute in float64 whatever the process's JAX setting
            result = run_task(params)
        if not isinstance(result, dict):
            raise GDPerceptronError(f"run_task must return a dict, got {type(result).__name__}")
        text = to_json(result, what="task result")
    except Exception:  # reported to the caller with its traceback, never raised
        error = traceback.format_exc()
    return (text, error, started, now_iso(), time.perf_counter() - t0, _versions_json())


def _failed(index: int, err: BaseException) -> Outcome:
    """An outcome for a task whose worker failed before it could report."""
    stamp = now_iso()
    return Outcome(index, None, f"{type(err).__name__}: {err}", stamp, stamp, 0.0, "{}")


class Executor(Protocol):
    """What the pipeline needs from an executor."""

    name: str

    def describe(self) -> str: ...

    def outcomes(self, run_task: TaskFn, params_list: Sequence[Params]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


def _watch_parent(parent: int) -> None:
    """Exit this process at once when ``parent`` is no longer its parent process."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Pool worker initializer: Ctrl-C is handled by the parent, which stops the workers;
    a daemon thread ends the worker when the parent dies (:func:`_watch_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # a diverging task overflows on purpose and says so in its result; keep stderr clean
    warnings.simplefilter("ignore", RuntimeWarning)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    enable_persistent_cache()  # workers share compiled run loops through the disk cache


class LocalExecutor:
    """Tasks on a pool of ``workers`` spawned processes, or in this process if ``workers == 1``."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        if self.workers == 1:
            return "local, in-process"
        return f"local, {self.workers} spawned worker processes"

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def outcomes(self, run_task: TaskFn, params_list: Sequence[Params]) -> Iterator[Outcome]:
        """Yield one :class:`Outcome` per params, in completion order."""
        if self.workers == 1:
            for i, params in enumerate(params_list):
                yield Outcome(i, *call_task(run_task, params))
            return
        if not params_list:
            return
        pool = self._get_pool()
        futures: dict[Future, int] = {
            pool.submit(call_task, run_task, p): i for i, p in enumerate(params_list)
        }
        finished = False
        try:
            for fut in as_completed(futures):
                try:
                    yield Outcome(futures[fut], *fut.result())
                except Exception as err:  # a dead worker, a broken pool
                    self._stop()
                    yield _failed(futures[fut], err)
            finished = True
        finally:
            if not finished:
                for fut in futures:
                    fut.cancel()
                self._stop()

    def _stop(self) -> None:
        """Cancel what is queued and end the worker processes now."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for proc in processes:
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.join(timeout=5)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def import_ray() -> Any:
    """The ``ray`` module, or a clear error when it is not installed."""
    try:
        import ray
    except ImportError:
        raise GDPerceptronError(
            "the ray executor needs Ray: pip install gdperceptron[ray]"
        ) from None
    return ray


class RayExecutor:
    """Tasks as Ray remote tasks on a cluster (``address`` or ``RAY_ADDRESS``) or on a new
    local instance with ``workers`` CPUs, which :meth:`close` shuts down."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        ray = import_ray()
        self._ray = ray
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.workers = workers or os.cpu_count() or 1
        self._started = False
        if not ray.is_initialized():
            common = {"include_dashboard": False, "logging_level": logging.WARNING}
            with warnings.catch_warnings():
                # Ray starts its daemons with subprocess.Popen(preexec_fn=...), which runs
                # the at-fork hook that JAX installs once it has a backend; the child execs
                # at once, so JAX's "os.fork() was called" warning does not apply.
                warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)
                try:
                    if self.address:
                        ray.init(address=self.address, **common)
                    else:
                        ray.init(address="local", num_cpus=self.workers, **common)
                except Exception as err:  # no cluster at the address, a failed start
                    where = f"the Ray cluster at {self.address!r}" if self.address else "Ray"
                    first = (str(err).strip().splitlines() or [""])[0]
                    raise GDPerceptronError(
                        f"cannot start or reach {where}: {type(err).__name__}: {first}"
                    ) from None
            self._started = True
        self._remote = ray.remote(num_cpus=1, max_retries=0)(call_task)
        where = f"cluster at {self.address}" if self.address else "local instance"
        self._description = f"ray, {where}, {int(ray.cluster_resources().get('CPU', 0))} CPUs"

    def describe(self) -> str:
        return self._description

    def outcomes(self, run_task: TaskFn, params_list: Sequence[Params]) -> Iterator[Outcome]:
        """Yield one :class:`Outcome` per params, in completion order."""
        ray = self._ray
        refs = {self._remote.remote(run_task, p): i for i, p in enumerate(params_list)}
        pending = list(refs)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    try:
                        fields = ray.get(ref)
                    except Exception as err:  # a dead worker, a lost node
                        yield _failed(refs[ref], err)
                    else:
                        yield Outcome(refs[ref], *fields)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def check_options(kind: str, workers: int | None, ray_address: str | None) -> None:
    """Validate executor options without starting anything.

    Raises:
        GDPerceptronError: unknown kind, ``workers < 1``, an address for ``local``, or
            ``ray`` when Ray is not installed.
    """
    if kind not in EXECUTORS:
        raise GDPerceptronError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise GDPerceptronError(f"workers must be an integer >= 1, got {workers!r}")
    if kind == "local" and ray_address:
        raise GDPerceptronError("a Ray address needs the ray executor (--executor ray)")
    if kind == "ray":
        import_ray()  # fail before any work when Ray is missing


def make_executor(
    kind: str = "local", *, workers: int | None = None, ray_address: str | None = None
) -> Executor:
    """The executor called ``kind`` (one of :data:`EXECUTORS`), options checked by
    :func:`check_options`; the ``ray`` one connects to or starts Ray here."""
    check_options(kind, workers, ray_address)
    if kind == "local":
        return LocalExecutor(workers)
    return RayExecutor(workers, ray_address)
