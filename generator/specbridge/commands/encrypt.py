"""`specbridge encrypt --connector NAME --name KEY`: seal a secret for a definition file that is committed.

The secret is read from a hidden prompt (or stdin when piped), never from the command line; the `enc:`
value printed opens only with this machine's master key (`SPECBRIDGE_MASTER_KEY` or
`$SPECBRIDGE_HOME/master.key`), for that connector and name.
"""

from __future__ import annotations

import argparse
import sys

from specbridge_runtime import SpecbridgeError
from specbridge_runtime.contract import read_secret, seal_for_definition

from . import EXIT_FAILED, EXIT_OK


class EncryptCommand:
    name = "encrypt"
    help = "seal a secret as an enc: value for a definition file (read from a hidden prompt or stdin)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--connector", required=True, help="the connector's name, as in the definition")
        parser.add_argument("--name", required=True, help="a name for the secret, e.g. token")

    def run(self, args: argparse.Namespace) -> int:
        try:
            value = read_secret(f"{args.name} for {args.connector} (input hidden): ")
            if not value:
                print("specbridge encrypt: error: no value given; nothing sealed", file=sys.stderr)
                return EXIT_FAILED
            sealed, key = seal_for_definition(args.connector, args.name, value)
        except SpecbridgeError as error:
            print(f"specbridge encrypt: error: {error}", file=sys.stderr)
            return EXIT_FAILED
        print(sealed)
        print(f"specbridge encrypt: sealed for connector {args.connector!r} with master key {key}; servers need "
              "that key to open it", file=sys.stderr)
        return EXIT_OK
