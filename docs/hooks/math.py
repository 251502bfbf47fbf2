"""MkDocs hook: formulas become MathML at build time, so pages need no script and no network.

``pymdownx.arithmatex`` (generic mode) leaves ``$...$`` as ``<span class="arithmatex">\\(...\\)
</span>`` and ``$$...$$`` as ``<div class="arithmatex">\\[...\\]</div>``; this hook replaces
the TeX inside by the MathML that ``latex2mathml`` writes for it, which every current
browser lays out natively. A formula that does not convert (a syntax error, or a command
the converter does not know and would print raw) stops the build with its page and text.
"""

from __future__ import annotations

import html
import re
import unicodedata

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)
# a backslash left in the MathML is a TeX command that was not converted
_RAW_COMMAND = re.compile(r">[^<]*\\[A-Za-z]")
# TeX that arithmatex did not pick up (for example $$ inside a list item); code is exempt
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
_LEFT_OVER = re.compile(r"\$\$|\\[(\[]|\$[^$<>]*\\[A-Za-z]+[^$<>]*\$")
# browsers ignore most mathvariant values: write the styled letters themselves
_VARIANT = re.compile(
    r'<(mi|mn) mathvariant="(double-struck|bold|script|fraktur)">([A-Za-z0-9])</\1>'
)
_BARS = re.compile(r"<mo>(&#x02016;|&#x0007C;|\u2016|\|)</mo>")
_DIGITS = "ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE".split()


def _styled(m: re.Match) -> str:
    tag, variant, char = m[1], m[2].upper(), m[3]
    if char.isdigit():
        names = [f"MATHEMATICAL {variant} DIGIT {_DIGITS[int(char)]}"]
    else:
        case = "CAPITAL" if char.isupper() else "SMALL"
        names = [
            f"MATHEMATICAL {variant} {case} {char.upper()}",
            f"{variant} {case} {char.upper()}",
        ]
    for name in names:
        try:
            return f"<{tag}>{unicodedata.lookup(name)}</{tag}>"
        except KeyError:
            continue
    return m[0]


def _balanced(tex: str) -> bool:
    """Whether the groups ``{...}`` of ``tex`` are balanced (the converter does not check)."""
    depth = 0
    for char in re.sub(r"\\[\\{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def to_mathml(tex: str, display: str, where: str = "") -> str:
    """The MathML for ``tex`` (already HTML-unescaped), ``display`` "inline" or "block"."""
    if not _balanced(tex):
        raise PluginError(f"{where}: formula {tex.strip()!r} has unbalanced braces")
    try:
        out = convert(tex.strip(), display=display)
    except Exception as err:  # the converter raises many types; every one stops the build
        raise PluginError(f"{where}: formula {tex.strip()!r} does not convert: {err!r}") from err
    if _RAW_COMMAND.search(out):
        raise PluginError(f"{where}: formula {tex.strip()!r} has a command MathML cannot show")
    # bare norm and absolute-value bars keep their size (\left| ... \right| still stretch)
    out = _BARS.sub(r'<mo stretchy="false">\1</mo>', out)
    return _VARIANT.sub(_styled, out)


def on_page_content(html_text: str, page, **kwargs) -> str:  # noqa: ANN001 (MkDocs API)
    where = page.file.src_uri

    def block(m: re.Match) -> str:
        return f'<div class="arithmatex">{to_mathml(html.unescape(m[1]), "block", where)}</div>'

    def inline(m: re.Match) -> str:
        return f'<span class="arithmatex">{to_mathml(html.unescape(m[1]), "inline", where)}</span>'

    out = _INLINE.sub(inline, _BLOCK.sub(block, html_text))
    prose = _CODE.sub("", out)
    left = _LEFT_OVER.search(prose)
    if left:
        raise PluginError(
            f"{where}: TeX left unconverted (a formula Markdown did not see): {left[0]!r}"
        )
    return out
