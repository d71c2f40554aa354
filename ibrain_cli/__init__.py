"""``ibrain``: the command line, the top layer (docs/architecture.md). One module per command group."""

from ibrain_cli.main import main

__all__ = ["main"]
