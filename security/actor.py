"""Who does something: the subject of every authorisation decision and audit record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person (``user:<login>``), an app (``app:<app key>``) or the system itself
    (``system:<component>``, e.g. a Dagster schedule), acting for an organisation in a role."""

    principal: str
    org: str | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        kind = self.principal.split(":", 1)[0]
        if (
            kind not in {"user", "app", "system"}
            or ":" not in self.principal
            or not self.principal.split(":", 1)[1]
        ):
            raise ValueError(f"actor principal {self.principal!r}: expected user:…, app:… or system:…")
