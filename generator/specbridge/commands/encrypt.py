"""`specbridge encrypt --connector NAME --name KEY`: seal a secret for a definition file that is committed.

The secret is read from a hidden prompt (or stdin when piped), never from the command line; the `enc:`
value printed opens only with this machine's master key (`SPECBRIDGE_MASTER_KEY` or
`$SPECBRIDGE_HOME/master.key`), for that connector and name.
"""

from __future__ import annotations

import sys

import click
from specbridge_runtime import SpecbridgeError
from specbridge_runtime.contract import read_secret, seal_for_definition

from . import EXIT_FAILED, EXIT_OK, version_option


@click.command("encrypt")
@click.option("--connector", required=True, help="the connector's name, as in the definition")
@click.option("--name", required=True, help="a name for the secret, e.g. token")
@version_option
def encrypt_command(connector: str, name: str) -> int:
    """Seal a secret as an enc: value for a definition file (read from a hidden prompt or stdin)."""
    try:
        value = read_secret(f"{name} for {connector} (input hidden): ")
        if not value:
            print("specbridge encrypt: error: no value given; nothing sealed", file=sys.stderr)
            return EXIT_FAILED
        sealed, key = seal_for_definition(connector, name, value)
    except SpecbridgeError as error:
        print(f"specbridge encrypt: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(sealed)
    print(f"specbridge encrypt: sealed for connector {connector!r} with master key {key}; servers need "
          "that key to open it", file=sys.stderr)
    return EXIT_OK
