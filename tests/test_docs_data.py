"""The Fashion-MNIST blocks of docs/tutorials/own-data.md read the files of the Debian package
dataset-fashion-mnist. The page marks them to be skipped, so that the documentation tests
pass without the files; here the whole page runs, those blocks included, and prints what it
shows wherever the files are installed."""

from __future__ import annotations

import contextlib
import doctest
import io
from pathlib import Path

import pytest
from test_docs import DOCS, FLAGS, ROOT, _durations, blocks

PAGE = DOCS / "tutorials" / "own-data.md"
FASHION = Path("/usr/share/datasets/fashion-mnist")
HAVE_FILES = all(
    (FASHION / f"{name}.gz").is_file() or (FASHION / name).is_file()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
)


def every_example(page: Path) -> list[tuple[int, str, str | None]]:
    """``(index, code, expected output or None)`` for every Python block, skipped or not."""
    found = blocks(page)
    out = []
    for k, (lang, code, _skipped) in enumerate(found):
        if lang != "python":
            continue
        nxt = found[k + 1] if k + 1 < len(found) else None
        out.append((k, code, nxt[1] if nxt is not None and nxt[0] == "output" else None))
    return out


def test_the_page_skips_only_the_blocks_that_read_fashion_mnist() -> None:
    skipped = [code for lang, code, skip in blocks(PAGE) if lang == "python" and skip]
    assert skipped, "the Fashion-MNIST blocks are marked to be skipped"
    assert "load_fashion_mnist" in skipped[0] and "/usr/share/datasets/fashion-mnist" in skipped[0]
    assert all("raw" in code for code in skipped)  # each one uses the loaded images


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_FILES, reason=f"no Fashion-MNIST files in {FASHION}")
def test_the_fashion_mnist_blocks_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    checker = doctest.OutputChecker()
    for index, code, expected in every_example(PAGE):
        where = f"{PAGE.relative_to(ROOT)}[block {index}]"
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, where, "exec"), namespace)
        if expected is not None:
            want, got = _durations(expected), _durations(buffer.getvalue())
            assert checker.check_output(want, got, FLAGS), (
                f"{where} printed\n{got}\nbut the page shows\n{want}"
            )
