"""The reproduction pipeline behind ``gdperceptron reproduce``.

* :mod:`~gdperceptron.pipeline.cache`: the SQLite results database and task keys.
* :mod:`~gdperceptron.pipeline.executors`: local process pool and Ray executors.
* :mod:`~gdperceptron.pipeline.report`: the HTML report and the terminal summary.
* :mod:`~gdperceptron.pipeline.reproduce`: the orchestration, :func:`reproduce`.
"""

from __future__ import annotations

from gdperceptron.pipeline.cache import SCHEMA_ID, SCHEMA_VERSION, TASK_COLUMNS, open_store
from gdperceptron.pipeline.executors import EXECUTORS, make_executor
from gdperceptron.pipeline.reproduce import (
    DB_NAME,
    ExperimentOutcome,
    RunInfo,
    RunSummary,
    reproduce,
)

__all__ = [
    "DB_NAME",
    "EXECUTORS",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "TASK_COLUMNS",
    "ExperimentOutcome",
    "RunInfo",
    "RunSummary",
    "make_executor",
    "open_store",
    "reproduce",
]
