"""The report of a pipeline run: a static HTML page and a terminal summary table.

``report/index.html`` is self-contained (inline CSS, no script, nothing fetched) and
references the figures by relative path (``../figures/NAME.png``), so it opens from the
output folder. One section per experiment: title, claim, one-line verdict, the figures
(the decisive one first), the table of measured numbers (``analysis.table``) and the
named numbers (``analysis.numbers``). All text is escaped with :func:`html.escape`.
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
.verdict { font-weight: 600; padding: 0.4rem 0.6rem; border-radius: 4px; }
.reproduced { background: #e6f4e6; } .not-reproduced { background: #fbeaea; }
.failed { background: #fff3d6; }
.claim { font-style: italic; } .meta { color: #555; font-size: 0.9rem; }
"""


def fmt(value: Any) -> str:
    """A short text for a table cell: floats to 6 significant digits, ``None`` as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _e(value: Any) -> str:
    return html.escape(fmt(value) if not isinstance(value, str) else value)


def _table(rows: Sequence[dict[str, Any]]) -> str:
    """An HTML table of rows; the columns are the keys in order of first appearance."""
    if not rows:
        return "<p class='meta'>(no table)</p>"
    cols: list[str] = []
    for row in rows:
        cols.extend(k for k in row if k not in cols)
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(row.get(c)))}</td>" for c in cols) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def verdict_line(outcome: ExperimentOutcome) -> str:
    """``reproduced — <verdict> (decisive figure: NAME)``, or why the experiment failed."""
    if outcome.analysis is None:
        return f"failed — {outcome.error}"
    a = outcome.analysis
    figure = f" (decisive figure: {a.decisive_figure})" if a.decisive_figure else ""
    return f"{outcome.status} — {a.verdict}{figure}"


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


def _section(outcome: ExperimentOutcome, figures_dir: Path) -> str:
    css = outcome.status.replace(" ", "-")
    parts = [
        f"<section id='{html.escape(outcome.name, quote=True)}'>",
        f"<h2>{html.escape(outcome.title)} <small>({html.escape(outcome.name)})</small></h2>",
        f"<p class='claim'>{html.escape(outcome.claim)}</p>",
        f"<p class='verdict {css}'>{html.escape(verdict_line(outcome))}</p>",
        f"<p class='meta'>tasks: {outcome.n_tasks} ({outcome.n_computed} computed, "
        f"{outcome.n_cached} cached); wall time {outcome.wall_s:.1f} s</p>",
    ]
    a = outcome.analysis
    if a is not None:
        decisive = a.decisive_figure
        parts += [_figure(s, s == decisive, figures_dir) for s in outcome.figures]
        parts += ["<h3>Measured numbers</h3>", _table(a.table)]
        numbers = [{"name": k, "value": v} for k, v in a.numbers.items()]
        parts += ["<h3>Key numbers</h3>", _table(numbers)]
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
    if info.command:
        header.append(("command", info.command))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in header
    )
    toc = "".join(
        f"<li><a href='#{html.escape(o.name, quote=True)}'>{html.escape(o.name)}</a>: "
        f"{html.escape(o.status)}</li>"
        for o in outcomes
    )
    sections = "\n".join(_section(o, figures_dir) for o in outcomes)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>gdperceptron reproduction report</title>"
        f"<style>{_CSS}</style></head><body>\n"
        "<h1>Gradient descent as a perceptron: reproduction report</h1>\n"
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
    """A plain-text table: experiment, tasks (computed / cached), wall time, verdict; then
    one verdict line per experiment."""
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
    text += [""] + [f"{o.name}: {verdict_line(o)}" for o in outcomes]
    return "\n".join(text)
