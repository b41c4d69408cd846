"""`creds`: the connector's secrets in the encrypted vault.

`creds set KEY` reads the value from a hidden prompt (or stdin when it is not a terminal), never from
the command line, and refuses a value with a control character; `creds list` shows names, the last 6
characters only and each secret's age, flagging those older than the rotation period
(`SPECBRIDGE_SECRET_MAX_AGE_DAYS`, 90 days); `creds delete KEY` revokes (a running server stops using it on
its next call); `creds rotate-key` re-seals every secret of this machine's vault under a new master key;
`creds migrate --to postgresql://...` copies this home's SQLite vault, sealed as it is, into PostgreSQL for
replicas (`SPECBRIDGE_DATABASE_URL`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._core.descriptors import ConnectorSpec
from .._core.grammar import VAULT_PREFIX, control_problem, fallback_env_name
from .._mechanisms.auth import format_problem
from .._mechanisms.oauth import describe_token
from .._mechanisms.secrets import CredentialError, check_name
from .._mechanisms.vault import (
    MASTER_KEY_ENV,
    MAX_AGE_ENV,
    Entry,
    Vault,
    copy_rows,
    database_url_problem,
    mask,
    max_age_days,
    parse_master_key,
    rows_from_env,
    specbridge_home,
)
from .._mechanisms.vault_rows import SqliteRows

if TYPE_CHECKING:
    from ._context import CliContext

NEW_MASTER_KEY_ENV = "SPECBRIDGE_NEW_MASTER_KEY"
DATABASE_URL_ENV = "SPECBRIDGE_DATABASE_URL"


def connector_name(cli: CliContext, member: str | None = None) -> str:
    """The name secrets are stored under: the package's connector, the served provider's name, or for
    `--connector NAME` in a gateway, `GATEWAY.NAME` (what that connector reads)."""
    package = cli.package
    if package is not None:
        if member is not None:
            raise CredentialError("--connector is for a gateway's connectors; a package's secrets are its own")
        return package.name
    from .._assembly.gateway import connector_names
    from .._providers.gateway import GatewayProvider

    provider = cli.provider()
    if member is None:
        return provider.name
    if not isinstance(provider, GatewayProvider):
        raise CredentialError(f"--connector is for a gateway's connectors; {provider.name} is not a gateway")
    members = connector_names(provider.config, provider.path.parent, read_definition=None)
    if member not in members:
        raise CredentialError(f"gateway {provider.name} has no connector {member!r} (it has "
                              f"{', '.join(sorted(members)) or 'none'})")
    return f"{provider.name}.{member}"


def expected_names(connector: ConnectorSpec) -> list[str]:
    """The vault entries the connector's definition refers to."""
    references = [value for scheme in connector.auth for _, value in scheme.secrets]
    references += [value for _, value in connector.headers]
    names = [reference.removeprefix(VAULT_PREFIX) for reference in references if reference.startswith(VAULT_PREFIX)]
    return list(dict.fromkeys(names))


def read_secret(prompt: str) -> str:
    """A hidden prompt on a terminal; otherwise stdin (one value, its final line break removed)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    value = sys.stdin.read()
    return value.removesuffix("\n").removesuffix("\r")


def age_text(entry: Entry, now: float, limit: float) -> str:
    """`set 12 days ago`, and a flag when the secret is older than the rotation period."""
    days = entry.age_days(now)
    text = f"set {days:.0f} day{'' if round(days) == 1 else 's'} ago"
    if entry.stale(now, limit):
        text += f"  OLDER THAN {limit:g} DAYS: rotate it (set a new value, revoke the old one; {MAX_AGE_ENV})"
    return text


def stale_names(vault: Vault, connector: str, environ: Mapping[str, str], now: float) -> list[tuple[str, float]]:
    """The stored secrets of `connector` older than the rotation period, with their age in days."""
    limit = max_age_days(environ)
    return [(entry.name, entry.age_days(now)) for entry in vault.entries(connector) if entry.stale(now, limit)]


def describe(value: str) -> str:
    return describe_token(value) or mask(value)


class CredsCommand:
    name = "creds"
    help = "store, list, delete secrets in the encrypted vault; rotate its master key"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        store = actions.add_parser("set", help="store a secret (from a hidden prompt, or stdin when piped)")
        store.add_argument("key", help="the secret's name, e.g. bearer_token (see `creds list`)")
        listing = actions.add_parser("list", help="list stored secrets, masked to their last 6 characters")
        delete = actions.add_parser("delete", help="delete (revoke) a secret; a running server stops using it")
        delete.add_argument("key")
        for action in (store, listing, delete):
            action.add_argument("--connector", metavar="NAME", default=None,
                                help="in a gateway: the connector whose secret it is (without it: the gateway's own, "
                                     "e.g. its callers' tokens)")
        migrate = actions.add_parser(
            "migrate", help="copy this home's vault, still sealed, into PostgreSQL (for SPECBRIDGE_DATABASE_URL)")
        migrate.add_argument("--to", metavar="postgresql://USER@HOST/DB", default=None,
                             help="the database (default: SPECBRIDGE_DATABASE_URL); its password comes from "
                                  "PGPASSWORD or ~/.pgpass, never from the command line")
        actions.add_parser(
            "rotate-key",
            help=f"re-seal every secret under a new master key (with {MASTER_KEY_ENV} set, the new key comes "
            f"from {NEW_MASTER_KEY_ENV})",
        )

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        if args.action == "migrate":
            return self._migrate(args.to, cli)
        vault = Vault(environ=cli.environ)
        try:
            if args.action == "rotate-key":
                return self._rotate(vault, cli)
            connector = connector_name(cli, args.connector)
            if args.action == "set":
                return self._set(vault, connector, check_name(args.key), cli)
            if args.action == "delete":
                return self._delete(vault, connector, args.key, cli)
            return self._list(vault, connector, cli)
        except CredentialError as error:
            cli.note(f"{cli.prog}: error: {error}")
            return 1
        finally:
            vault.close()

    def _set(self, vault: Vault, connector: str, key: str, cli: CliContext) -> int:
        value = read_secret(f"{key} (input hidden): ")
        if not value:
            cli.note(f"{cli.prog}: error: no value given for {key}; nothing stored")
            return 1
        control = control_problem(value)
        if control:
            cli.note(f"{cli.prog}: error: the value of {key} {control}, which no credential contains (a paste "
                     "gone wrong?); nothing stored")
            return 1
        vault.set(connector, key, value)
        problem = format_problem(value)
        warning = f" (warning: the value {problem}; calls will refuse it)" if problem else ""
        cli.note(f"stored {key} for {connector}: {mask(value)}{warning}")
        return 0

    def _delete(self, vault: Vault, connector: str, key: str, cli: CliContext) -> int:
        if not vault.delete(connector, key):
            cli.note(f"{cli.prog}: error: {connector} has no stored secret {key!r} (see `{cli.prog} creds list`)")
            return 1
        cli.note(f"deleted {key} of {connector}; running servers stop using it on their next call")
        return 0

    def _list(self, vault: Vault, connector: str, cli: CliContext) -> int:
        entries = vault.entries(connector, describe=describe)
        stored = {entry.name for entry in entries}
        now, limit = time.time(), max_age_days(cli.environ)
        rows = [
            (entry.name, entry.masked if entry.problem is None else f"UNREADABLE: {entry.problem}",
             f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(entry.updated_at))}  {age_text(entry, now, limit)}")
            for entry in entries
        ]
        package = cli.package
        for name in expected_names(package.connector) if package is not None else []:
            if name not in stored:
                variable = fallback_env_name(connector, name)
                source = f"from ${variable}" if variable in cli.environ else f"not set (or set ${variable})"
                rows.append((name, source, ""))
        if not rows:
            cli.print(f"{connector} has no stored secrets")
            return 0
        width = max(len(row[0]) for row in rows)
        for name, shown, updated in rows:
            cli.print(f"{name:<{width}}  {shown}{'  ' + updated if updated else ''}")
        return 0

    def _migrate(self, url: str | None, cli: CliContext) -> int:
        given = url is not None
        url = url or cli.environ.get(DATABASE_URL_ENV, "").strip()
        problem = database_url_problem(url, on_command_line=given)
        if problem:
            cli.note(f"{cli.prog}: error: {problem}")
            return 1
        home = specbridge_home(cli.environ)
        source, target = SqliteRows(home), rows_from_env(home, {DATABASE_URL_ENV: url})
        try:
            done = copy_rows(source, target)
        finally:
            source.close()
            target.close()
        cli.note(f"copied {done.secrets} sealed secret(s) of {len(done.connectors)} connector(s) from {source.where} "
                 f"to {target.where}; no value was opened")
        if done.key_ids:
            cli.note(f"they open with master key {', '.join(done.key_ids)} (this home's): give every replica that key "
                     f"({MASTER_KEY_ENV}) and {DATABASE_URL_ENV}")
        return 0

    def _rotate(self, vault: Vault, cli: CliContext) -> int:
        new_key = None
        if vault.keyring.from_environment:
            text = cli.environ.get(NEW_MASTER_KEY_ENV, "")
            if not text:
                cli.note(
                    f"{cli.prog}: error: the master key comes from {MASTER_KEY_ENV}; put the new key in "
                    f"{NEW_MASTER_KEY_ENV} for the rotation, then replace {MASTER_KEY_ENV} with it"
                )
                return 1
            new_key = parse_master_key(text, NEW_MASTER_KEY_ENV)
        rotation = vault.rotate_key(new_key)
        cli.note(f"re-sealed {rotation.resealed} secrets of this machine's vault under key {rotation.new_key_id}")
        if new_key is not None:
            cli.note(f"now set {MASTER_KEY_ENV} to the value of {NEW_MASTER_KEY_ENV} wherever this vault is used")
        cli.note("enc: values in definition files were sealed with the old key: seal them again (specbridge encrypt)")
        return 0
