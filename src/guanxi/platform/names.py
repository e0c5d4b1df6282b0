"""Showing people's names in their own convention: family name first, no space, for Han
names (张伟); given name first for Latin names (Wei Zhang)."""

from __future__ import annotations

import unicodedata


def has_han(text: str) -> bool:
    return any("CJK" in unicodedata.name(ch, "") for ch in text)


def display_name(*, family: str, given: str) -> str:
    family, given = family.strip(), given.strip()
    if has_han(family) or has_han(given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def user_label(first_name: str, last_name: str, username: str) -> str:
    """A user as the pages show them: the name as entered (``get_full_name``), else the
    username — from the three columns, for pages that read values rather than users."""
    return f"{first_name} {last_name}".strip() or username
