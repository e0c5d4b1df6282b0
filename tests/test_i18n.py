"""Every UI string is translated into Simplified and Traditional Chinese."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "guanxi"


@pytest.mark.slow
def test_catalogues_are_complete(tmp_path):
    """Extract the strings afresh from a copy of the code: none may be untranslated or fuzzy."""
    copy = tmp_path / "guanxi"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = os.environ | {"GUANXI_HOME": str(tmp_path / "home")}
    subprocess.run(
        [sys.executable, "-P", "-m", "django", "makemessages", "-l", "zh_Hans", "-l", "zh_Hant",
         "--ignore=migrations", "--settings=guanxi.settings.test"],
        cwd=copy, env=env, check=True, capture_output=True,
    )  # fmt: skip
    for language in ("zh_Hans", "zh_Hant"):
        catalogue = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        stats = subprocess.run(
            ["msgfmt", "--statistics", "-o", os.devnull, str(catalogue)],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        assert "untranslated" not in stats and "fuzzy" not in stats, (language, stats)


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Sign in"), ("zh-hans", "登录"), ("zh-hant", "登入")]
)
def test_compiled_catalogues_are_used(language, expected):
    with translation.override(language):
        assert translation.gettext("Sign in") == expected


def test_login_page_in_chinese(client, db):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-Hans", HTTP_HOST="127.0.0.1")
    assert "登录" in response.content.decode()
