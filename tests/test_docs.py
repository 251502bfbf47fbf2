"""The documentation is checked like code: it builds with warnings as errors, the code of
every page runs and prints what the page shows, the docstring examples of the public API
run as doctests, and every test a page cites exists. The markers are described in
docs/about-the-docs.md."""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)
FENCE = re.compile(r"^(<!-- docs-test: skip -->\n)?```(\w+)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SLOW = re.compile(r"^<!-- docs-test: slow -->$", re.M)
TEST_REF = re.compile(r"tests/(test_\w+)\.py::(\w+)(?:::(\w+))?")
DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def blocks(page: Path) -> list[tuple[str, str, bool]]:
    """``(language, code, skipped)`` for every fenced block of ``page``, in order."""
    return [(m[2], m[3], m[1] is not None) for m in FENCE.finditer(page.read_text())]


def examples(page: Path) -> list[tuple[int, str, str | None]]:
    """``(index, code, expected output or None)`` for every Python block that runs."""
    found = blocks(page)
    out = []
    for k, (lang, code, skipped) in enumerate(found):
        if lang != "python" or skipped:
            continue
        nxt = found[k + 1] if k + 1 < len(found) else None
        out.append((k, code, nxt[1] if nxt is not None and nxt[0] == "output" else None))
    return out


def _page_param(page: Path):
    marks = [pytest.mark.slow] if SLOW.search(page.read_text()) else []
    return pytest.param(page, id=str(page.relative_to(DOCS)), marks=marks)


CODE_PAGES = [_page_param(p) for p in PAGES if examples(p)]


def _durations(text: str) -> str:
    """Wall times such as ``6.3 s`` differ from run to run: every one compares equal."""
    return DURATION.sub("<duration>", text)


def build_site(out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_site_builds_strict_and_renders_formulas(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = build_site(site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("setting", "reduction", "spectra", "minimal-example"):
        html = (site / "theory" / f"{name}.html").read_text()
        assert "<math" in html, f"{name}: no MathML"
        assert "\\(" not in html and "\\[" not in html, f"{name}: raw TeX left in the page"
    api = (site / "api" / "algorithms.html").read_text()
    assert 'id="gdperceptron.perceptron_step"' in api
    # the pages reach nothing outside the folder: no script, stylesheet or font from a CDN
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", text), page


def test_a_broken_formula_stops_the_build() -> None:
    import importlib.util

    from mkdocs.exceptions import PluginError

    spec = importlib.util.spec_from_file_location("docs_math", DOCS / "hooks" / "math.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    out = hook.to_mathml(r"\frac{1}{2} \sum_i \mathbb{1}[m_i < 0]", "inline")
    assert out.startswith("<math") and "𝟙" in out and "\\" not in out
    assert hook.to_mathml(r"\{x\} \\ y", "block").startswith("<math")
    with pytest.raises(PluginError, match="unbalanced braces"):
        hook.to_mathml(r"\frac{1", "block", "page.md")
    with pytest.raises(PluginError, match="does not convert"):
        hook.to_mathml(r"a_", "block", "page.md")
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="page.md"))
    html = '<p><span class="arithmatex">\\(x_i\\)</span> and <code>$$a$$</code></p>'
    assert "<math" in hook.on_page_content(html, page)
    with pytest.raises(PluginError, match="TeX left unconverted"):
        hook.on_page_content("<li>eigenvalues $$ \\lambda_1 = 1 $$</li>", page)
    with pytest.raises(PluginError, match="MathML cannot show"):
        hook.to_mathml(r"\notacommand x", "block", "page.md")


@pytest.mark.parametrize("page", CODE_PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    checker = doctest.OutputChecker()
    for index, code, expected in examples(page):
        where = f"{page.relative_to(ROOT)}[block {index}]"
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, where, "exec"), namespace)
        got = buffer.getvalue()
        if expected is not None:
            expected, got = _durations(expected), _durations(got)
            assert checker.check_output(expected, got, FLAGS), (
                f"{where} printed\n{got}\nbut the page shows\n{expected}"
            )


def test_the_markers_are_found() -> None:
    text = (
        "<!-- docs-test: skip -->\n```python\nraise SystemExit\n```\n"
        "```python\nprint(1)\n```\n```output\n1\n```\n"
    )
    found = [(m[2], m[3], m[1] is not None) for m in FENCE.finditer(text)]
    assert found == [("python", "raise SystemExit\n", True), ("python", "print(1)\n", False),
                     ("output", "1\n", False)]  # fmt: skip
    assert SLOW.search("intro\n<!-- docs-test: slow -->\n") and not SLOW.search(
        "`<!-- docs-test: slow -->`"
    )
    checker = doctest.OutputChecker()
    assert checker.check_output(
        _durations("a\n\nwall 2.3 s\n"), _durations("a\nwall 33.1 s"), FLAGS
    )
    assert not checker.check_output("slope 1.021\n", "slope 1.022\n", FLAGS)
    tutorials = [p for p in PAGES if "tutorials" in p.parts]
    assert tutorials and all(examples(p) for p in tutorials), "every tutorial has code that runs"


def _public_objects() -> list[tuple[str, object]]:
    import gdperceptron

    return [(name, getattr(gdperceptron, name)) for name in gdperceptron.__all__]


def test_docstring_examples_of_the_public_api_run() -> None:
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=FLAGS)
    seen, ran = set(), 0
    for name, obj in _public_objects():
        if not (callable(obj) or isinstance(obj, type)):
            continue
        module = sys.modules.get(getattr(obj, "__module__", ""), None)
        globs = dict(vars(module)) if module is not None else {}
        for test in finder.find(obj, f"gdperceptron.{name}", globs=globs):
            if test.examples and test.name not in seen:
                seen.add(test.name)
                ran += len(test.examples)
                runner.run(test, out=lambda s: None)
    assert ran > 0, "the public API has docstring examples"
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed"


def test_every_cited_test_exists() -> None:
    cited = {(m[1], m[2], m[3]) for p in PAGES for m in TEST_REF.finditer(p.read_text())}
    assert len(cited) > 50, "the theory pages cite the tests that check their formulas"
    missing = []
    for module, name, method in sorted(cited, key=str):
        path = ROOT / "tests" / f"{module}.py"
        tree = ast.parse(path.read_text()) if path.exists() else ast.Module(body=[])
        top = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        node = top.get(name)
        ok = node is not None and (
            method is None
            or any(isinstance(n, ast.FunctionDef) and n.name == method for n in node.body)
        )
        if not ok:
            missing.append(f"tests/{module}.py::{name}" + (f"::{method}" if method else ""))
    assert not missing, f"cited but not found: {missing}"


def test_the_api_reference_covers_the_public_api() -> None:
    import gdperceptron

    text = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    documented = {m.rsplit(".", 1)[-1] for m in re.findall(r"^::: ([\w.]+)$", text, re.M)}
    assert set(gdperceptron.__all__) <= documented, set(gdperceptron.__all__) - documented


def test_every_theory_page_the_docstrings_cite_exists() -> None:
    src = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    cited = set(re.findall(r"docs/theory/([\w-]+)\.md", src))
    assert cited and all((DOCS / "theory" / f"{name}.md").exists() for name in cited), cited


@pytest.mark.parametrize(
    ("build", "k"),
    [
        (lambda gp, d: gp.linear(d), 1),
        (lambda gp, d: gp.tied(d), 2),
        (lambda gp, d: gp.two_layer(d, 4, "relu"), 2),
        (lambda gp, d: gp.two_layer(d, 4, "leaky_relu"), 2),
        (lambda gp, d: gp.two_layer(d, 4, "identity"), 2),
        (lambda gp, d: gp.two_layer(d, 4, "relu", train_second_layer=False), 1),
        (lambda gp, d: gp.two_layer(d, 4, "square"), 3),
        (lambda gp, d: gp.mlp(d, 4, 3, "relu"), 3),
        (lambda gp, d: gp.mlp(d, 4, 4, "leaky_relu"), 4),
        (lambda gp, d: gp.two_layer(d, 4, "tanh"), None),
    ],
)
def test_homogeneity_degrees_of_the_models_page(build, k) -> None:
    """The table of docs/theory/models.md: f(x; c theta) = c^k f(x; theta), and the model
    declares that k (tanh: no k; the scaling is checked to fail)."""
    import numpy as np

    import gdperceptron as gp

    d = 5
    model = build(gp, d)
    assert model.degree == k
    theta = model.initial_params(seed=3, init_scale=1.0)
    X = np.random.default_rng(4).standard_normal((6, d))
    f = np.asarray(model.apply(theta, X))
    for c in (0.5, 3.0):
        fc = np.asarray(model.apply(c * theta, X))
        if k is None:
            assert not np.allclose(fc, c * f, rtol=1e-6) and not np.allclose(fc, c**2 * f)
        else:
            np.testing.assert_allclose(fc, c**k * f, rtol=1e-12, atol=1e-12 * np.abs(f).max())
