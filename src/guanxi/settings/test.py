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
