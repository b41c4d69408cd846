"""The subcommands of a generated server's CLI, one module each (listed in `_cli.commands()`)."""
