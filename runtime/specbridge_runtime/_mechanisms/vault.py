"""The credential vault: secrets sealed with AES-256-GCM in one SQLite table under `SPECBRIDGE_HOME`.

Each secret is sealed with a fresh random 96-bit nonce and bound to its connector, its name and the
id of the master key (the AAD), so a ciphertext copied to another connector or name, altered, or
read with another key fails to open instead of yielding garbage.

The master key is `SPECBRIDGE_MASTER_KEY` (base64 of 32 bytes) or `$SPECBRIDGE_HOME/master.key`,
created with mode 0600 on first use. Rotation writes the new key beside the old one
(`master.key.next`) before it re-seals every row in one transaction, and only then replaces
`master.key`; whichever moment it is interrupted at, every row opens with one of the two files.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .._core.errors import SpecbridgeError
from .._core.grammar import creds_command
from .private import private_dir, private_file
from .vault_rows import RowWriter, Sealed, SecretRows, SqliteRows, write_new_file

try:  # POSIX: serialize rotations between processes; elsewhere one process at a time is assumed.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MASTER_KEY_ENV = "SPECBRIDGE_MASTER_KEY"
HOME_ENV = "SPECBRIDGE_HOME"
MAX_AGE_ENV = "SPECBRIDGE_SECRET_MAX_AGE_DAYS"
DEFAULT_MAX_AGE_DAYS = 90.0  # the connector docs: rotate keys quarterly
KEY_BYTES = 32
NONCE_BYTES = 12
MASK_VISIBLE = 6



class VaultError(SpecbridgeError):
    """A secret cannot be stored or read. The message says what is wrong and what to do."""


class MasterKeyError(VaultError):
    """The master key is missing, malformed, or not the key the secrets were sealed with."""


class SecretUnreadable(VaultError):
    """A sealed secret failed its integrity check: altered, or moved from another connector or name."""


def specbridge_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".specbridge"


def max_age_days(environ: Mapping[str, str]) -> float:
    """After how many days a stored secret is due for rotation (`SPECBRIDGE_SECRET_MAX_AGE_DAYS`, default 90;
    a value that is not a positive number means the default)."""
    try:
        days = float(environ.get(MAX_AGE_ENV, "") or DEFAULT_MAX_AGE_DAYS)
    except ValueError:
        return DEFAULT_MAX_AGE_DAYS
    return days if math.isfinite(days) and days > 0 else DEFAULT_MAX_AGE_DAYS


def mask(value: str) -> str:
    """Show only the last 6 characters, and none of a secret too short to hide the rest."""
    if len(value) < 2 * MASK_VISIBLE:
        return "******"
    return "******" + value[-MASK_VISIBLE:]


def key_id(key: bytes) -> str:
    """A short, stable name for a key; a hash of 256 random bits reveals nothing of them."""
    return hashlib.sha256(b"specbridge-master-key\0" + key).hexdigest()[:16]


def parse_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip().replace("-", "+").replace("_", "/") + "==", validate=False)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{source} is not a master key: it must be {KEY_BYTES} random bytes in base64 "
            f'(create one with: python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return key


def encode_master_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _aad(connector: str, name: str, kid: str) -> bytes:
    return f"{connector}\0{name}\0{kid}".encode()


# cryptography is imported by the first secret sealed or opened, not by every server's start.
def seal(key: bytes, connector: str, name: str, plaintext: str) -> Sealed:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kid = key_id(key)
    nonce = os.urandom(NONCE_BYTES)
    return Sealed(kid, nonce, AESGCM(key).encrypt(nonce, plaintext.encode(), _aad(connector, name, kid)))


def unseal(key: bytes, connector: str, name: str, sealed: Sealed) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _aad(connector, name, sealed.key_id))
    except InvalidTag:
        raise SecretUnreadable(
            f"the secret {name!r} of connector {connector!r} failed its integrity check: it was altered, or "
            f"copied from another connector or name. Store it again with `{creds_command(connector, f'set {name}')}`"
        ) from None
    return plaintext.decode()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class Keyring:
    """The master key in use, plus a rotation's new key while that rotation is unfinished."""

    def __init__(self, home: Path, environ: Mapping[str, str]) -> None:
        self.home = home
        self._environ = environ
        self.key_path = home / "master.key"
        self.next_path = home / "master.key.next"

    @property
    def from_environment(self) -> bool:
        return bool(self._environ.get(MASTER_KEY_ENV))

    @property
    def source(self) -> str:
        return MASTER_KEY_ENV if self.from_environment else str(self.key_path)

    def keys(self) -> dict[str, bytes]:
        """Every key that may open a row right now, by id (read afresh: another process may rotate)."""
        env_key = self._environ.get(MASTER_KEY_ENV)
        if env_key:
            key = parse_master_key(env_key, MASTER_KEY_ENV)
            return {key_id(key): key}
        found: dict[str, bytes] = {}
        for path in (self.key_path, self.next_path):
            with contextlib.suppress(FileNotFoundError):
                key = parse_master_key(path.read_text(encoding="ascii"), str(path))
                found[key_id(key)] = key
        return found

    def current(self, *, create: bool) -> bytes | None:
        """The key new secrets are sealed with; created (0600, atomically) when `create` and absent."""
        env_key = self._environ.get(MASTER_KEY_ENV)
        if env_key:
            return parse_master_key(env_key, MASTER_KEY_ENV)
        with contextlib.suppress(FileNotFoundError):
            return parse_master_key(self.key_path.read_text(encoding="ascii"), str(self.key_path))
        if not create:
            return None
        private_dir(self.home)
        temporary = self.home / f"master.key.{os.getpid()}.{threading.get_ident()}.tmp"
        write_new_file(temporary, (encode_master_key(os.urandom(KEY_BYTES)) + "\n").encode("ascii"))
        try:
            os.link(temporary, self.key_path)  # atomic and never replaces: a concurrent creator wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        _fsync_dir(self.home)
        return parse_master_key(self.key_path.read_text(encoding="ascii"), str(self.key_path))

    def stage_next(self, key: bytes) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.next_path.unlink()
        write_new_file(self.next_path, (encode_master_key(key) + "\n").encode("ascii"))
        _fsync_dir(self.home)

    def promote_next(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.next_path, self.key_path)
            _fsync_dir(self.home)

    @contextlib.contextmanager
    def rotation_lock(self) -> Iterator[None]:
        private_dir(self.home)
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with open(private_file(self.home / "rotate.lock"), "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored secret as `creds list` shows it: never the value, only its masked tail."""

    name: str
    masked: str | None
    updated_at: float
    problem: str | None = None

    def age_days(self, now: float) -> float:
        return max(now - self.updated_at, 0.0) / 86400

    def stale(self, now: float, max_age_days: float) -> bool:
        """Older than the rotation period: the connector docs ask to rotate it."""
        return self.age_days(now) > max_age_days


@dataclass(frozen=True, slots=True)
class Rotation:
    old_key_ids: tuple[str, ...]
    new_key_id: str
    resealed: int


class Vault:
    """The secrets of every connector on this machine, sealed at rest.

    Reads go to the database every time, so a secret deleted or replaced by another process
    (`creds delete`, `creds set`, a token refresh) is seen by the next call without a restart.
    """

    def __init__(self, home: Path | None = None, *, environ: Mapping[str, str] | None = None,
                 rows: SecretRows | None = None) -> None:
        env = os.environ if environ is None else environ
        self.home = home if home is not None else specbridge_home(env)
        self.rows = rows if rows is not None else rows_from_env(self.home, env)
        self.keyring = Keyring(self.home, env)
        self._lock = threading.RLock()  # rotation holds it while sealing
        self._keys: dict[str, bytes] = {}

    def close(self) -> None:
        with self._lock:
            self.rows.close()

    # -- keys --------------------------------------------------------------------------------------

    def key_for(self, kid: str) -> bytes:
        """The key with id `kid`, or a `MasterKeyError` saying which key is needed."""
        for _ in range(2):  # a second read covers a rotation promoting its key between our two file reads
            if kid in self._keys:
                return self._keys[kid]
            self._keys = self.keyring.keys()
        if not self._keys:
            raise MasterKeyError(
                f"the master key is missing: the vault {self.rows.where} holds secrets sealed with key {kid}, but "
                f"{MASTER_KEY_ENV} is not set and {self.keyring.key_path} does not exist. Restore the key file "
                f"or set {MASTER_KEY_ENV}"
            )
        raise MasterKeyError(
            f"wrong master key: the vault's secrets were sealed with key {kid}, but {self.keyring.source} holds "
            f"key {', '.join(sorted(self._keys))}. Set {MASTER_KEY_ENV} to the key they were sealed with"
        )

    def sealing_key(self) -> bytes:
        """The key new secrets and `enc:` values are sealed with, created on first use. Refused while
        the vault holds secrets this key cannot open: mixing keys would strand them."""
        key = self.keyring.current(create=False)
        if self.rows.exists():
            with self._lock:
                stranded = self.rows.key_other_than(key_id(key or b""))
            if stranded is not None:
                self.key_for(stranded)
        if key is None:
            key = self.keyring.current(create=True)
            assert key is not None  # create=True always yields a key
        return key

    # -- secrets -----------------------------------------------------------------------------------

    def set(self, connector: str, name: str, value: str) -> None:
        if self.keyring.next_path.exists():
            with self.keyring.rotation_lock(), self._lock:
                self._settle()
        sealed = seal(self.sealing_key(), connector, name, value)
        with self._lock, self.rows.transaction() as rows:
            rows.put(connector, name, sealed, time.time())

    def get(self, connector: str, name: str) -> str | None:
        if not self.rows.exists():
            return None  # reading never creates files
        with self._lock:
            sealed = self.rows.read(connector, name)
        if sealed is None:
            return None
        return unseal(self.key_for(sealed.key_id), connector, name, sealed)

    def delete(self, connector: str, name: str) -> bool:
        if not self.rows.exists():
            return False
        with self._lock, self.rows.transaction() as rows:
            return rows.remove(connector, name)

    def entries(self, connector: str, describe: Callable[[str], str] = mask) -> list[Entry]:
        """Every secret of `connector`, shown by `describe` (masked); an unreadable one with its problem."""
        if not self.rows.exists():
            return []
        with self._lock:
            rows = self.rows.all_of(connector)
        entries: list[Entry] = []
        for name, sealed, updated_at in rows:
            try:
                value = unseal(self.key_for(sealed.key_id), connector, name, sealed)
            except VaultError as error:
                entries.append(Entry(name, None, updated_at, str(error)))
            else:
                entries.append(Entry(name, describe(value), updated_at))
        return entries

    # -- rotation ----------------------------------------------------------------------------------

    def rotate_key(self, new_key: bytes | None = None) -> Rotation:
        """Re-seal every secret under a new master key, losing nothing if interrupted at any point.

        With a key file, the new key is generated and written beside the old one first. With
        `SPECBRIDGE_MASTER_KEY`, pass the new key; the caller tells the user to switch the variable.
        """
        key = new_key if new_key is not None else os.urandom(KEY_BYTES)
        with self.keyring.rotation_lock(), self._lock:
            self._settle()
            files = not self.keyring.from_environment
            if files:
                self.sealing_key()  # the old key must exist before anything is staged beside it
            with self.rows.transaction() as rows:
                if files:
                    self.keyring.stage_next(key)
                old_kids, resealed = self._reseal(rows, key)
            if files:
                self.keyring.promote_next()
            self._keys = {}
        return Rotation(old_kids, key_id(key), resealed)

    def _reseal(self, rows: RowWriter, key: bytes) -> tuple[tuple[str, ...], int]:
        """Re-seal, inside the caller's transaction, every row not yet sealed with `key`."""
        found = rows.sealed_otherwise(key_id(key))
        for connector, name, sealed in found:
            value = unseal(self.key_for(sealed.key_id), connector, name, sealed)
            rows.replace_sealed(connector, name, seal(key, connector, name, value))
        return tuple(sorted({sealed.key_id for _, _, sealed in found})), len(found)

    def _settle(self) -> None:
        """Finish a rotation that was interrupted after its commit (rows use the staged key), or drop
        the staged key of one that never committed. Called with the rotation lock held."""
        staged = self.keyring.next_path
        if self.keyring.from_environment or not staged.exists():
            return
        key = parse_master_key(staged.read_text(encoding="ascii"), str(staged))
        if not self.rows.uses_key(key_id(key)):
            staged.unlink()
            return
        with self.rows.transaction() as rows:
            self._reseal(rows, key)
        self.keyring.promote_next()
        self._keys = {}


@dataclass(frozen=True, slots=True)
class Migration:
    secrets: int
    connectors: tuple[str, ...]
    key_ids: tuple[str, ...]


def copy_rows(source: SecretRows, target: SecretRows) -> Migration:
    """Copy every sealed row of `source` into `target` in one transaction, as they are: nothing is opened, so
    no value is exposed, and the rows open with the key that sealed them. A row already in `target` is
    replaced."""
    rows = source.everything() if source.exists() else []
    with target.transaction() as writer:
        for connector, name, sealed, updated_at in rows:
            writer.put(connector, name, sealed, updated_at)
    return Migration(len(rows), tuple(sorted({row[0] for row in rows})),
                     tuple(sorted({row[2].key_id for row in rows})))


def database_url_problem(url: str, *, on_command_line: bool) -> str | None:
    """Why `url` cannot name the vault's database (not PostgreSQL, or a password on the command line), or None."""
    if not url:
        return "no database: give --to postgresql://USER@HOST/DB or set SPECBRIDGE_DATABASE_URL"
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return "the database URL must start with postgresql://"
    if on_command_line and parts.password:
        return ("the database URL holds a password, which would show in the process list: put it in PGPASSWORD or "
                "~/.pgpass (or pass the URL in SPECBRIDGE_DATABASE_URL)")
    return None


def rows_from_env(home: Path, environ: Mapping[str, str]) -> SecretRows:
    """Where the environment keeps the vault's rows: PostgreSQL with `SPECBRIDGE_DATABASE_URL`, else
    `home/vault.db`."""
    url = environ.get("SPECBRIDGE_DATABASE_URL", "").strip()
    if not url:
        return SqliteRows(home)
    try:
        from .postgres import PostgresRows
    except ImportError:
        raise VaultError("SPECBRIDGE_DATABASE_URL is set but psycopg is not installed: "
                         "pip install 'specbridge-runtime[postgres]'") from None
    return PostgresRows(url)
