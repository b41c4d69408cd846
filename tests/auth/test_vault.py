"""The vault: secrets sealed at rest, bound to connector and name, clear errors, crash-safe rotation."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from specbridge_runtime._mechanisms.vault import MASTER_KEY_ENV, MasterKeyError, SecretUnreadable, Vault, key_id, mask

CANARY = "canary-SECRET-7f3a9c1e5b"


def fresh(home: Path, environ: dict[str, str] | None = None) -> Vault:
    """A vault as a new process opens it."""
    return Vault(home, environ=environ if environ is not None else {})


def fill(vault: Vault, count: int) -> dict[tuple[str, str], str]:
    secrets = {(f"connector{index % 3}", f"secret_{index}"): f"value-{index}-{CANARY}" for index in range(count)}
    for (connector, name), value in secrets.items():
        vault.set(connector, name, value)
    return secrets


def assert_all_open(home: Path, secrets: dict[tuple[str, str], str], environ: dict[str, str] | None = None) -> None:
    vault = fresh(home, environ)
    try:
        for (connector, name), value in secrets.items():
            assert vault.get(connector, name) == value
    finally:
        vault.close()


def test_roundtrip_and_key_file_created_private(home: Path) -> None:
    vault = fresh(home)
    vault.set("shop", "token", CANARY)
    assert vault.get("shop", "token") == CANARY
    assert vault.get("shop", "other") is None and vault.get("other", "token") is None
    assert stat.S_IMODE((home / "master.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "vault.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    vault.close()
    assert_all_open(home, {("shop", "token"): CANARY})


def test_reading_an_empty_vault_creates_nothing(home: Path) -> None:
    assert fresh(home).get("shop", "token") is None
    assert not home.exists()


def test_secret_is_not_in_any_file_of_the_vault(home: Path) -> None:
    vault = fresh(home)
    for index in range(20):
        vault.set("shop", f"token{index}", CANARY)
    vault.delete("shop", "token3")
    vault.close()
    for path in home.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_nonce_is_fresh_for_every_seal(home: Path) -> None:
    vault = fresh(home)
    vault.set("shop", "a", CANARY)
    vault.set("shop", "b", CANARY)
    vault.close()
    rows = sqlite3.connect(home / "vault.db").execute("SELECT nonce, ciphertext FROM secrets").fetchall()
    assert len({row[0] for row in rows}) == 2 and all(len(row[0]) == 12 for row in rows)
    assert len({row[1] for row in rows}) == 2


def test_list_is_masked_to_the_last_six_characters(home: Path) -> None:
    vault = fresh(home)
    vault.set("shop", "token", "sk-live-0123456789abcdef")
    vault.set("shop", "pin", "1234")
    entries = {entry.name: entry for entry in vault.entries("shop")}
    assert entries["token"].masked == "******abcdef"
    assert entries["pin"].masked == "******"  # too short to show any of it
    assert mask("x" * 12) == "******xxxxxx"


def test_delete(home: Path) -> None:
    vault = fresh(home)
    vault.set("shop", "token", CANARY)
    assert vault.delete("shop", "token") is True
    assert vault.delete("shop", "token") is False
    assert vault.get("shop", "token") is None


def _tamper(home: Path, connector: str, name: str) -> None:
    with sqlite3.connect(home / "vault.db") as db:
        (ciphertext,) = db.execute("SELECT ciphertext FROM secrets WHERE connector = ? AND name = ?",
                                   (connector, name)).fetchone()
        flipped = bytes([ciphertext[0] ^ 0x01]) + ciphertext[1:]
        db.execute("UPDATE secrets SET ciphertext = ? WHERE connector = ? AND name = ?", (flipped, connector, name))


def test_one_tampered_byte_fails_clearly_and_loses_nothing_else(home: Path) -> None:
    secrets = fill(fresh(home), 6)
    _tamper(home, "connector0", "secret_0")
    vault = fresh(home)
    with pytest.raises(SecretUnreadable, match="'secret_0' of connector 'connector0' failed its integrity check"):
        vault.get("connector0", "secret_0")
    del secrets[("connector0", "secret_0")]
    assert_all_open(home, secrets)
    listed = {entry.name: entry for entry in vault.entries("connector0")}
    assert listed["secret_0"].masked is None and "integrity" in (listed["secret_0"].problem or "")
    assert listed["secret_3"].masked is not None


@pytest.mark.parametrize(("connector", "name"), [("other", "token"), ("shop", "other_name")],
                         ids=["another-connector", "another-name"])
def test_a_ciphertext_moved_elsewhere_does_not_open(home: Path, connector: str, name: str) -> None:
    vault = fresh(home)
    vault.set("shop", "token", CANARY)
    vault.close()
    with sqlite3.connect(home / "vault.db") as db:
        db.execute("INSERT INTO secrets SELECT ?, ?, key_id, nonce, ciphertext, updated_at FROM secrets "
                   "WHERE connector = 'shop' AND name = 'token'", (connector, name))
    vault = fresh(home)
    with pytest.raises(SecretUnreadable, match="copied from another connector or name"):
        vault.get(connector, name)
    assert vault.get("shop", "token") == CANARY


def test_master_key_from_environment(home: Path) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    vault = fresh(home, {MASTER_KEY_ENV: key})
    vault.set("shop", "token", CANARY)
    assert not (home / "master.key").exists()
    assert_all_open(home, {("shop", "token"): CANARY}, {MASTER_KEY_ENV: key})


def test_wrong_master_key_is_a_clear_error(home: Path) -> None:
    fresh(home).set("shop", "token", CANARY)
    wrong = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(MasterKeyError, match=r"wrong master key: .* sealed with key [0-9a-f]{16}"):
        fresh(home, {MASTER_KEY_ENV: wrong}).get("shop", "token")
    # Storing under the wrong key would strand the others: refused too.
    with pytest.raises(MasterKeyError, match="wrong master key"):
        fresh(home, {MASTER_KEY_ENV: wrong}).set("shop", "new", "value-0123456789")
    assert_all_open(home, {("shop", "token"): CANARY})


def test_missing_key_file_is_a_clear_error_and_not_silently_replaced(home: Path) -> None:
    fresh(home).set("shop", "token", CANARY)
    saved = (home / "master.key").read_bytes()
    (home / "master.key").unlink()
    with pytest.raises(MasterKeyError, match="the master key is missing"):
        fresh(home).get("shop", "token")
    with pytest.raises(MasterKeyError, match="the master key is missing"):
        fresh(home).set("shop", "new", "value-0123456789")
    assert not (home / "master.key").exists()
    (home / "master.key").write_bytes(saved)
    assert_all_open(home, {("shop", "token"): CANARY})


@pytest.mark.parametrize("bad", ["not base64 at all!", base64.b64encode(b"short").decode()])
def test_malformed_master_key_says_what_a_key_is(home: Path, bad: str) -> None:
    with pytest.raises(MasterKeyError, match="must be 32 random bytes in base64") as raised:
        fresh(home, {MASTER_KEY_ENV: bad}).set("shop", "token", CANARY)
    assert bad not in str(raised.value)


def test_rotation_reseals_everything_under_a_new_key(home: Path) -> None:
    secrets = fill(fresh(home), 30)
    old_key = (home / "master.key").read_text()
    rotation = fresh(home).rotate_key()
    assert rotation.resealed == 30 and rotation.new_key_id not in rotation.old_key_ids
    assert (home / "master.key").read_text() != old_key
    assert not (home / "master.key.next").exists()
    assert_all_open(home, secrets)
    kids = {row[0] for row in sqlite3.connect(home / "vault.db").execute("SELECT key_id FROM secrets")}
    assert kids == {rotation.new_key_id}


def test_rotation_with_an_environment_key_needs_the_new_key(home: Path) -> None:
    old = os.urandom(32)
    new = os.urandom(32)
    old_env = {MASTER_KEY_ENV: base64.b64encode(old).decode()}
    secrets = fill(fresh(home, old_env), 5)
    assert fresh(home, old_env).rotate_key(new).new_key_id == key_id(new)
    assert_all_open(home, secrets, {MASTER_KEY_ENV: base64.b64encode(new).decode()})
    with pytest.raises(MasterKeyError, match="wrong master key"):
        fresh(home, old_env).get("connector0", "secret_0")


# A rotation killed (SIGKILL, no cleanup) at a chosen point: after N rows were re-sealed, after the new
# key was staged, or after the commit but before master.key was replaced.
_KILLED_ROTATION = """
import os, signal, sys
from pathlib import Path
from specbridge_runtime._mechanisms import vault as _vault

point, count = sys.argv[2], int(sys.argv[3])
calls = {"seal": 0}
real_seal, real_promote, real_stage = _vault.seal, _vault.Keyring.promote_next, _vault.Keyring.stage_next

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def seal(*args, **kwargs):
    calls["seal"] += 1
    if point == "reseal" and calls["seal"] > count:
        die()
    return real_seal(*args, **kwargs)

def stage_next(self, key):
    real_stage(self, key)
    if point == "staged":
        die()

def promote_next(self):
    if point == "commit":
        die()
    real_promote(self)

_vault.seal = seal
_vault.Keyring.stage_next = stage_next
_vault.Keyring.promote_next = promote_next
_vault.Vault(Path(sys.argv[1]), environ={}).rotate_key()
"""


@pytest.mark.parametrize(("point", "count"), [("reseal", 0), ("reseal", 7), ("staged", 0), ("commit", 0)],
                         ids=["before-first-row", "after-7-rows", "after-staging", "after-commit"])
def test_rotation_killed_midway_loses_nothing(home: Path, point: str, count: int) -> None:
    secrets = fill(fresh(home), 20)
    killed = subprocess.run([sys.executable, "-c", _KILLED_ROTATION, str(home), point, str(count)],
                            capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr.decode()
    assert_all_open(home, secrets)  # readable in the interrupted state
    fresh(home).set("connector9", "after_crash", "value-after-crash-0123456789")  # and writable
    secrets[("connector9", "after_crash")] = "value-after-crash-0123456789"
    rotation = fresh(home).rotate_key()  # a later rotation finishes cleanly
    assert rotation.resealed == len(secrets)
    assert not (home / "master.key.next").exists()
    assert_all_open(home, secrets)
