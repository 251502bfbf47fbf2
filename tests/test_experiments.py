"""Every experiment of the registry at quick size (every task, then analyze and plot into a
temporary folder), checked for what the report needs (each experiment's own checks are in
tests/test_experiment_<name>.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdperceptron.experiments import NAMES, Analysis
from gdperceptron.experiments.base import VERDICTS, SubClaim, overall_status

MINE = NAMES
PLAIN = (int, float, str, bool, type(None), np.integer, np.floating)


@pytest.mark.parametrize("name", MINE)
def test_quick_run_is_well_formed(quick_run, name):
    """The quick run of every experiment gives what the report renders: numbered
    sub-claims with a rule, evidence and one of the four verdicts; tables of plain cells
    (numbers or short texts, never a container's repr); JSON-able named numbers; the
    decisive figure among those written."""
    exp, records, analysis, stems, out = quick_run(name)
    assert exp.name == name
    assert records and all(isinstance(r, dict) for _, r in records)
    assert isinstance(analysis, Analysis) and analysis.claims
    numbers = [c.number for c in analysis.claims]
    assert len(set(numbers)) == len(numbers), numbers
    for c in analysis.claims:
        assert isinstance(c, SubClaim) and c.verdict in VERDICTS
        assert c.claim and c.criterion and c.evidence
        assert c.verdict != "partly" or c.condition
    assert analysis.status == overall_status(analysis.claims)
    assert analysis.reproduced == (analysis.status == "reproduced")
    tables = [analysis.table] if analysis.table else []
    tables += [t.rows for t in analysis.tables]
    assert tables and all(rows for rows in tables)
    for rows in tables:
        for row in rows:
            assert all(isinstance(k, str) and k for k in row)
            bad = {k: v for k, v in row.items() if not isinstance(v, PLAIN)}
            assert not bad, f"{name}: cells that are not numbers or text: {bad}"
    assert isinstance(analysis.numbers, dict) and analysis.numbers
    json.dumps(analysis.numbers)  # JSON-able
    assert analysis.decisive_figure in stems
    for stem in stems:
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    assert all(isinstance(p, dict) for p, _ in records)
