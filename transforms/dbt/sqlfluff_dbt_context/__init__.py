"""dbt's jinja context as sqlfluff needs it to render the models (library_path in .sqlfluff).

sqlfluff's own dbt builtins make every ``var()`` the string "item", so the models that read
``var('periods')`` fail to render. Here ``var`` answers as dbt does without ``--vars``: the default
in dbt_project.yml (``periods`` unset: every month), else the default given in the call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project.yml"
_VARS: dict[str, Any] = yaml.safe_load(_PROJECT.read_text(encoding="utf-8")).get("vars") or {}


def var(name: str, default: Any = None) -> Any:
    return _VARS.get(name, default)
