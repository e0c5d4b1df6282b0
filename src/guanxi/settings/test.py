"""Tests: the database comes from GUANXI_DATABASE_URL (SQLite in a temp folder by default)."""

import os
import tempfile

os.environ.setdefault("GUANXI_HOME", tempfile.mkdtemp(prefix="guanxi-test-"))
os.environ.setdefault("GUANXI_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from guanxi.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests on PostgreSQL need no durable commits (the test database is thrown away): the live
# server and transactional tests commit often, and waiting for the disk each time is most of
# their cost.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
