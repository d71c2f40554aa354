"""``ibrain serve``: the data service (数据交换共享 API) over the lake (serving/api)."""

from __future__ import annotations

import click

from catalog.contracts import load_catalog
from ibrain.settings import SettingsError
from ibrain_cli.console import fail
from security.keys import KeyFileError
from serving.api.app import openapi_document
from serving.api.openapi import canonical
from serving.api.server import DEFAULT_HOST, DEFAULT_PORT, build_service, run


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))  # fmt: skip
@click.option(
    "--print-openapi",
    is_flag=True,
    help="Print the OpenAPI document (as committed in serving/openapi/v1.json) and exit.",
)
def serve(host: str, port: int, log_level: str, print_openapi: bool) -> None:
    """Serve the API products of the catalog contracts (OpenAPI at /v1/openapi.json, docs at /docs).

    Needs the token and masking keys (IBRAIN_TOKEN_KEY_FILE, IBRAIN_MASKING_KEY_FILE) and the state
    database; stops cleanly (exit 0) on SIGTERM.
    """
    if print_openapi:
        click.echo(canonical(openapi_document(load_catalog())), nl=False)
        return
    try:
        service = build_service()
    except (SettingsError, KeyFileError) as exc:
        fail(str(exc))
    run(service, host, port, log_level)
