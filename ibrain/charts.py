"""Charts with Chinese labels: matplotlib with a CJK font, and figures as inline SVG.

Why a module: matplotlib's default fonts have no CJK glyphs — every Chinese label becomes boxes
and a "Glyph … missing from font" warning. The brief (serving/brief) and the analyst notebooks
(notebooks/) call :func:`use_cjk_font` first; it registers Debian's WenQuanYi Micro Hei
(package ``fonts-wqy-microhei``; ``IBRAIN_CJK_FONT`` names another file) and fails naming the
package when the file is missing, instead of drawing boxes. Nothing happens at import.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

FONT_ENV = "IBRAIN_CJK_FONT"
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class FontMissing(RuntimeError):
    """The CJK font file is not there: charts would show boxes for Chinese text."""


def font_path(environ: dict[str, str] | None = None) -> Path:
    """The CJK font file: ``IBRAIN_CJK_FONT`` if set, else Debian's WenQuanYi Micro Hei."""
    environ = dict(os.environ) if environ is None else environ
    raw = (environ.get(FONT_ENV) or "").strip()
    return Path(raw) if raw else DEFAULT_FONT


def use_cjk_font(environ: dict[str, str] | None = None) -> str:
    """Make matplotlib draw text with the CJK font (whatever the backend: a notebook's inline one,
    or none for the brief's SVG); returns the font's family name. Raises :class:`FontMissing`
    naming the file and the package that provides it."""
    path = font_path(environ)
    if not path.is_file():
        raise FontMissing(
            f"CJK font not found at {path}: install Debian's fonts-wqy-microhei "
            f"(apt-get install fonts-wqy-microhei) or point {FONT_ENV} at a .ttf/.ttc with CJK glyphs"
        )
    import matplotlib
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [name]
    matplotlib.rcParams["font.sans-serif"] = [name]
    matplotlib.rcParams["axes.unicode_minus"] = False  # the font has no U+2212 minus sign
    matplotlib.rcParams["svg.fonttype"] = "path"  # SVG text as outlines: no font needed to view it
    matplotlib.rcParams["svg.hashsalt"] = "ibrain"  # stable element ids, so a page is reproducible
    return name


def svg(figure: Any) -> str:
    """``figure`` (a ``matplotlib.figure.Figure``) as an inline ``<svg>`` element: no XML prolog,
    no comments."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    # matplotlib writes each label's text in an XML comment beside its outline: drop them, so no
    # label text (a name from the data) reaches the page other than as drawn paths
    return COMMENT.sub("", text[text.index("<svg") :])
