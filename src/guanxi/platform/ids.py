"""Public identifiers: a short type prefix plus a ULID (time-ordered, URL-safe, 26 chars)."""

from ulid import ULID


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{str(ULID()).lower()}"
