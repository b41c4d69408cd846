"""The vault in a real PostgreSQL: the same AES-256-GCM sealing bound to connector and name, shared by
replicas with their own homes and one master key, and `creds migrate` copying a SQLite vault there
without opening a value."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from specbridge_runtime._mechanisms.vault import MASTER_KEY_ENV, MasterKeyError, SecretUnreadable, Vault

from tests.stores.replicas import FAULTAPI, package_environ
from tests.stores.servers import PostgresServer
from tests.support import REPO

SECRET = "sk_live_" + "q7" * 16


def master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode("ascii")


def vault(home: Path, url: str, key: str) -> Vault:
    return Vault(home, environ={"SPECBRIDGE_DATABASE_URL": url, MASTER_KEY_ENV: key})


def test_replicas_with_their_own_homes_share_the_vault(postgres_server: PostgresServer, tmp_path: Path) -> None:
    key, connector = master_key(), f"shop{uuid.uuid4().hex[:6]}"
    first, second = vault(tmp_path / "a", postgres_server.url, key), vault(tmp_path / "b", postgres_server.url, key)
    try:
        first.set(connector, "token", SECRET)
        assert second.get(connector, "token") == SECRET
        assert [entry.name for entry in second.entries(connector)] == ["token"]
        assert second.delete(connector, "token") and first.get(connector, "token") is None
        assert not (tmp_path / "a" / "vault.db").exists()  # nothing in the homes
    finally:
        first.close()
        second.close()


def test_rows_are_sealed_and_bound_to_connector_and_name(postgres_server: PostgresServer, tmp_path: Path) -> None:
    key, connector = master_key(), f"shop{uuid.uuid4().hex[:6]}"
    replica = vault(tmp_path, postgres_server.url, key)
    try:
        replica.set(connector, "token", SECRET)
        with psycopg.connect(postgres_server.url, autocommit=True) as db:
            (ciphertext,) = db.execute("SELECT ciphertext FROM specbridge_secrets WHERE connector = %s",
                                       (connector,)).fetchone()
            assert SECRET.encode() not in bytes(ciphertext)
            db.execute("INSERT INTO specbridge_secrets SELECT connector, 'other', key_id, nonce, ciphertext, updated_at"
                       " FROM specbridge_secrets WHERE connector = %s AND name = 'token'", (connector,))
        with pytest.raises(SecretUnreadable, match="failed its integrity check"):
            replica.get(connector, "other")
        with pytest.raises(MasterKeyError, match="wrong master key"):
            vault(tmp_path / "elsewhere", postgres_server.url, master_key()).get(connector, "token")
    finally:
        replica.close()


def run(home: Path, environ: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FAULTAPI, "creds", *args], env=package_environ(home, environ), cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_creds_migrate_copies_a_sqlite_vault_without_opening_it(postgres_server: PostgresServer,
                                                                tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    stored = run(laptop, {}, "set", "api_token", stdin=SECRET)
    assert stored.returncode == 0, stored.stderr
    migrated = run(laptop, {}, "migrate", "--to", postgres_server.url)
    assert migrated.returncode == 0, migrated.stderr
    assert "copied 1 sealed secret(s) of 1 connector(s)" in migrated.stderr and "no value was opened" in migrated.stderr
    assert SECRET not in migrated.stdout + migrated.stderr
    key = (laptop / "master.key").read_text().strip()
    replica = run(tmp_path / "replica", {"SPECBRIDGE_DATABASE_URL": postgres_server.url, MASTER_KEY_ENV: key}, "list")
    assert replica.returncode == 0, replica.stderr
    assert "api_token" in replica.stdout and SECRET[-6:] in replica.stdout and SECRET not in replica.stdout


def test_creds_migrate_refuses_a_password_on_the_command_line(tmp_path: Path) -> None:
    refused = run(tmp_path, {}, "migrate", "--to", "postgresql://app:hunter2@127.0.0.1:1/db")
    assert refused.returncode == 1 and "PGPASSWORD" in refused.stderr and "Traceback" not in refused.stderr
