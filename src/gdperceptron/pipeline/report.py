"""The report of a pipeline run: a static HTML page and a terminal summary table.

``report/index.html`` is self-contained (inline CSS, no script, nothing fetched) and
references the figures by relative path (``../figures/NAME.png``), so it opens from the
output folder. One section per experiment: title and overall status, claim, one line per
numbered sub-claim (verdict, evidence, rule), the figures (the decisive one first), the
tables of measured numbers (``analysis.table`` and ``analysis.tables``, split when wider
than :data:`MAX_COLUMNS`) and, collapsed, the named numbers (``analysis.numbers``). All
text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gdperceptron.pipeline.outcomes import ExperimentOutcome, RunInfo

REPORT_DIR = "report"
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
.verdict { font-weight: 600; padding: 0.1rem 0.4rem; border-radius: 4px; }
.reproduced { background: #e6f4e6; } .not-reproduced { background: #fbeaea; }
.partly { background: #fdf3c8; } .not-run { background: #eceff3; }
.failed { background: #ffe0b3; }
.claims li { margin: 0.5rem 0; } .evidence { font-size: 0.92rem; }
.rule { color: #555; font-size: 0.85rem; }
.claim { font-style: italic; } .meta { color: #555; font-size: 0.9rem; }
pre { font-size: 0.8rem; overflow-x: auto; }
"""


MAX_COLUMNS = 8  # wider tables are split, their key columns repeated in each part


def fmt(value: Any) -> str:
    """A short text for a table cell: floats to 4 significant digits (integers as such,
    ``inf`` as ∞), ``None`` as a dash, ``True``/``False`` as yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        cols.extend(k for k in row if k not in cols)
    return cols


def split_columns(
    cols: list[str], key_columns: int, max_columns: int = MAX_COLUMNS
) -> list[list[str]]:
    """The column lists of the parts of a table with ``cols``: each part has the first
    ``key_columns`` columns and at most ``max_columns`` in all.

    Example:
        >>> split_columns(["a", "b", "c", "d"], 1, 3)
        [['a', 'b', 'c'], ['a', 'd']]
    """
    keys, rest = cols[:key_columns], cols[key_columns:]
    room = max(1, max_columns - len(keys))
    if not rest:
        return [keys]
    return [keys + rest[i : i + room] for i in range(0, len(rest), room)]


def _table(rows: Sequence[dict[str, Any]], key_columns: int = 1) -> str:
    """HTML tables of rows (columns: keys in order of first appearance), split into parts of
    at most :data:`MAX_COLUMNS` columns."""
    if not rows:
        return "<p class='meta'>(no rows)</p>"
    parts = []
    for cols in split_columns(_columns(rows), key_columns):
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(row.get(c)))}</td>" for c in cols) + "</tr>"
            for row in rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(parts)


def verdict_line(outcome: ExperimentOutcome) -> str:
    """``<status> — <verdict> (decisive figure: NAME)``, or why the experiment failed."""
    if outcome.analysis is None:
        return f"failed — {outcome.error}"
    a = outcome.analysis
    figure = f" (decisive figure: {a.decisive_figure})" if a.decisive_figure else ""
    return f"{outcome.status} — {a.verdict}{figure}"


def claim_lines(outcome: ExperimentOutcome) -> list[str]:
    """One line per sub-claim (``1. reproduced: ...``), or the verdict line when the
    analysis has no sub-claims or failed."""
    if outcome.analysis is None or not outcome.analysis.claims:
        return [verdict_line(outcome)]
    return [c.line() for c in outcome.analysis.claims]


def _figure(stem: str, decisive: bool, figures_dir: Path) -> str:
    src = html.escape(f"../figures/{quote(stem)}.png", quote=True)
    pdf = html.escape(f"../figures/{quote(stem)}.pdf", quote=True)
    missing = "" if (figures_dir / f"{stem}.png").exists() else " — file missing"
    tag = " (decisive)" if decisive else ""
    return (
        f"<figure><img src='{src}' alt='{html.escape(stem, quote=True)}'>"
        f"<figcaption>{html.escape(stem)}{tag}{missing} — <a href='{pdf}'>PDF</a>"
        "</figcaption></figure>"
    )


def _css(status: str) -> str:
    return status.replace(" ", "-")


def _claims(outcome: ExperimentOutcome) -> str:
    a = outcome.analysis
    if a is None or not a.claims:
        return f"<p class='verdict {_css(outcome.status)}'>{html.escape(verdict_line(outcome))}</p>"
    items = []
    for c in a.claims:
        cond = f" ({html.escape(c.condition)})" if c.verdict == "partly" else ""
        items.append(
            f"<li><span class='verdict {_css(c.verdict)}'>{html.escape(c.number)}. "
            f"{html.escape(c.verdict)}{cond}</span> {html.escape(c.claim)}"
            f"<br><span class='evidence'>{html.escape(c.evidence)}</span>"
            f"<br><span class='rule'>Rule: {html.escape(c.criterion)}</span></li>"
        )
    return "<ul class='claims'>" + "".join(items) + "</ul>"


def _section(outcome: ExperimentOutcome, figures_dir: Path) -> str:
    status = outcome.status
    when = (
        f" Kept from an earlier run (started {outcome.ran_at}); not run this time."
        if outcome.earlier
        else ""
    )
    parts = [
        f"<section id='{html.escape(outcome.name, quote=True)}'>",
        f"<h2>{html.escape(outcome.title)} <small>({html.escape(outcome.name)})</small> "
        f"<span class='verdict {_css(status)}'>{html.escape(status)}</span></h2>",
        f"<p class='claim'>{html.escape(outcome.claim)}</p>",
        _claims(outcome),
        f"<p class='meta'>tasks: {outcome.n_tasks} ({outcome.n_computed} computed, "
        f"{outcome.n_cached} cached); wall time {outcome.wall_s:.1f} s.{html.escape(when)}</p>",
    ]
    a = outcome.analysis
    if a is not None:
        decisive = a.decisive_figure
        parts += [_figure(s, s == decisive, figures_dir) for s in outcome.figures]
        if a.table:
            parts += ["<h3>Measured numbers</h3>", _table(a.table)]
        for t in a.tables:
            parts.append(f"<h3>{html.escape(t.title)}</h3>")
            if t.note:
                parts.append(f"<p class='meta'>{html.escape(t.note)}</p>")
            parts.append(_table(t.rows, t.key_columns))
        if a.numbers:
            dump = json.dumps(a.numbers, indent=1, default=str, allow_nan=True)
            parts.append(
                "<details><summary>Named numbers (machine-readable)</summary>"
                f"<pre>{html.escape(dump)}</pre></details>"
            )
    parts.append("</section>")
    return "\n".join(parts)


def render_html(info: RunInfo, outcomes: Sequence[ExperimentOutcome], figures_dir: Path) -> str:
    """The whole report page as text."""
    mode = "quick" if info.quick else "full"
    versions = ", ".join(f"{k} {v}" for k, v in info.versions.items())
    header = [
        ("mode", mode + (" (forced recomputation)" if info.force else "")),
        ("executor", info.executor),
        ("started", info.started),
        ("total time", f"{info.total_s:.1f} s"),
        ("versions", versions),
    ]
    if info.data_note:
        header.append(("local data", info.data_note))
    if info.command:
        header.append(("command", info.command))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in header
    )
    toc = "".join(
        f"<li><a href='#{html.escape(o.name, quote=True)}'>{html.escape(o.name)}</a>: "
        f"<span class='verdict {_css(o.status)}'>{html.escape(o.status)}</span>"
        + (" (earlier run)" if o.earlier else "")
        + "</li>"
        for o in outcomes
    )
    sections = "\n".join(_section(o, figures_dir) for o in outcomes)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>gdperceptron reproduction report</title>"
        f"<style>{_CSS}</style></head><body>\n"
        "<h1>Gradient descent as a perceptron: reproduction report</h1>\n"
        "<p class='meta'>Each experiment states numbered sub-claims; each verdict is "
        "reproduced, partly (with the condition under which the claim holds), not "
        "reproduced, or not run (its data are missing), decided by the rule printed "
        "under it, which was fixed before the numbers were seen.</p>\n"
        f"<table class='meta'>{rows}</table>\n<ul>{toc}</ul>\n{sections}\n</body></html>\n"
    )


def write_report(out_dir: str | Path, info: RunInfo, outcomes: Sequence[ExperimentOutcome]) -> Path:
    """Write ``<out_dir>/report/index.html``; return its path."""
    out = Path(out_dir)
    path = out / REPORT_DIR / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(info, outcomes, out / "figures"), encoding="utf-8")
    return path


def summary_table(info: RunInfo, outcomes: Sequence[ExperimentOutcome]) -> str:
    """A plain-text table: experiment, tasks (computed / cached), wall time, status; then
    per experiment its status and one line per sub-claim."""
    head = ("experiment", "tasks (computed/cached)", "wall time", "verdict")
    rows = [
        (o.name, f"{o.n_tasks} ({o.n_computed}/{o.n_cached})", f"{o.wall_s:.1f} s", o.status)
        for o in outcomes
    ]
    rows.append(("total", "", f"{info.total_s:.1f} s", ""))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    text = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *rows]
    ]
    text.insert(1, line)
    text.insert(len(text) - 1, line)
    for o in outcomes:
        tag = " (earlier run)" if o.earlier else ""
        text += ["", f"{o.name}: {o.status}{tag}"] + [f"  {line}" for line in claim_lines(o)]
    return "\n".join(text)
