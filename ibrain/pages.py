"""Jinja2 templates for the generated HTML pages (the data map, the quality report).

Each page is one self-contained file: its template inlines its CSS and JS with ``{% include %}``
from the same ``templates/`` folder, so the page makes no external request. Every ``{{ … }}`` is
HTML-escaped (autoescape on for all templates); data for a script goes through ``|tojson``, which
also escapes ``<``, ``>``, ``&`` and ``'`` so it cannot end the ``<script>`` element. A name the
template uses but the caller did not pass is an error (``StrictUndefined``), not an empty string.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined


def environment(package: str) -> Environment:
    """The templates in ``<package>/templates/`` (shipped as package data); a new environment, so
    the caller can add its own filters."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
