"""Reading ``GUANXI_*`` environment variables and the embedded data folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}


class ConfigurationError(Exception):
    """A GUANXI_* variable holds a value that cannot be used."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ConfigurationError(f"{name}={raw!r}: expected one of true/false/1/0/yes/no/on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r}: expected a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def guanxi_home() -> Path:
    """The data folder of the embedded mode: database, secret key, uploads."""
    return Path(os.environ.get("GUANXI_HOME") or Path.home() / ".guanxi").expanduser()


def ensure_home() -> Path:
    home = guanxi_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def secret_key() -> str:
    """GUANXI_SECRET_KEY, or a key generated once and kept in $GUANXI_HOME/secret_key."""
    key = os.environ.get("GUANXI_SECRET_KEY")
    if key:
        return key
    path = ensure_home() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    try:
        # 0600 from the start so the key is never readable by other users, even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
