"""The `guanxi` command's admin verbs, and the two README commands end to end."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.platform.models import Membership, User, Workspace
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=err)
    finally:
        sys.stdin = old_stdin
    return out.getvalue(), err.getvalue()


def test_workspace_user_token_flow():
    run("workspace", "create", "--slug", "acme", "--name", "ACME 贸易")
    run(
        "user", "create", "--username", "boss", "--workspace", "acme", "--role", "sales_manager",
        "--team", "East",
    )  # fmt: skip
    run(
        "user", "create", "--username", "li", "--workspace", "acme", "--role", "sales_rep",
        "--team", "East", "--manager", "boss", "--password-stdin",
        stdin="correct horse battery staple\n",
    )  # fmt: skip
    li = User.objects.get(username="li")
    assert li.check_password("correct horse battery staple")
    membership = Membership.objects.dangerously_all_workspaces().get(user=li)
    assert membership.manager.user.username == "boss"
    assert membership.team.name == "East"
    out, _ = run("token", "create", "--username", "li", "--workspace", "acme")
    token = out.strip().splitlines()[-1]
    assert token.startswith("gx_")
    assert ApiClient(token=token).get("/me").json()["username"] == "li"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "create", "--username", "x", "--workspace", "nope", "--role", "sales_rep"],
         "unknown workspace 'nope'"),
        (["user", "create", "--username", "x", "--workspace", "acme", "--role", "pilot"],
         "unknown role 'pilot'"),
        (["user", "create", "--username", "x", "--workspace", "acme", "--role", "sales_rep",
          "--manager", "ghost"], "'ghost' is not a member"),
        (["token", "create", "--username", "ghost", "--workspace", "acme"],
         "'ghost' is not a member"),
        (["workspace", "create", "--slug", "Bad Slug", "--name", "x"], "slug:"),
        (["workspace", "create", "--slug", "acme", "--name", "x"], "already exists"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(args, message):
    run("workspace", "create", "--slug", "acme", "--name", "ACME")
    with pytest.raises(CommandError) as error:
        run(*args)
    assert error.value.returncode == 2
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_weak_password_from_stdin_is_refused():
    run("workspace", "create", "--slug", "acme", "--name", "ACME")
    with pytest.raises(CommandError, match="password"):
        run(
            "user", "create", "--username", "x", "--workspace", "acme", "--role", "sales_rep",
            "--password-stdin", stdin="123\n",
        )  # fmt: skip
    assert not User.objects.filter(username="x").exists()


def test_openapi_snapshot_is_current():
    """docs/openapi.json is the committed contract; regenerate with
    `guanxi openapi --write docs/openapi.json` when an API change is intended."""
    from guanxi.platform.management.commands.openapi import openapi_document

    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    assert committed.read_text(encoding="utf-8") == openapi_document(), (
        "the API changed: run `guanxi openapi --write docs/openapi.json` and review the diff"
    )


def test_openapi_is_3_1_with_bearer_auth(client):
    client.defaults["HTTP_HOST"] = "127.0.0.1"
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/me" in document["paths"]
    assert client.get("/api/v1/docs").status_code == 200


# --- the README commands, as a new user runs them -------------------------------------------
def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
    env["GUANXI_HOME"] = str(home)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# `guanxi` in a subprocess runs on the embedded SQLite database whatever database the tests
# use (the environment is cleared): the SQLite pass covers it, the PostgreSQL pass skips it.
EMBEDDED_ONLY = pytest.mark.skipif(
    bool(os.environ.get("GUANXI_DATABASE_URL")), reason="the embedded database only"
)


@pytest.mark.slow
@EMBEDDED_ONLY
def test_demo_prepares_and_serves(tmp_path):
    guanxi = [sys.executable, "-m", "guanxi"]
    prepared = subprocess.run(
        [*guanxi, "demo", "--no-serve"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang: migrations and the demo data take a while
    )
    assert prepared.returncode == 0, prepared.stderr
    password = prepared.stdout.split("password:")[1].split()[0]
    assert len(password) >= 12
    assert (tmp_path / "guanxi.sqlite3").exists() and (tmp_path / "secret_key").exists()
    again = subprocess.run(
        [*guanxi, "demo", "--no-serve"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert again.returncode == 0
    assert again.stdout.split("password:")[1].split()[0] != password  # never a fixed one

    port = _free_port()
    server = subprocess.Popen(
        [*guanxi, "demo", "--port", str(port), "--workers", "1"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not come up"
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as page:
            assert b"Guanxi" in page.read()
    finally:
        server.terminate()
        server.wait(timeout=20)
    journal = subprocess.run(
        [sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1])"
         ".execute('PRAGMA journal_mode').fetchone()[0])", str(tmp_path / "guanxi.sqlite3")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert journal.stdout.strip() == "wal"


@pytest.mark.slow
@EMBEDDED_ONLY
def test_every_verb_has_help(tmp_path):
    for verb in ("demo", "serve", "worker", "workspace", "user", "token", "openapi", "generate"):
        result = subprocess.run(
            [sys.executable, "-m", "guanxi", verb, "--help"],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (verb, result.stderr)
        assert "usage:" in result.stdout


def test_demo_customers_are_bilingual_and_have_a_year_of_history(db):
    from datetime import timedelta

    from django.utils import timezone

    from guanxi.customers.models import Account, Address, Contact, ContactPoint
    from guanxi.customers.normalize import has_han
    from guanxi.platform.context import acting_in
    from guanxi.platform.management.commands.demo import DEMO_PEOPLE, prepare_demo
    from guanxi.timeline.models import Activity, Interaction

    out = io.StringIO()
    prepare_demo(stdout=out)
    assert "contacts" in out.getvalue()
    workspace = Workspace.objects.get(slug="demo")
    members = Membership.objects.for_workspace(workspace)
    assert members.count() == len(DEMO_PEOPLE) + 1
    assert members.get(user__username="admin").role.key == "administrator"
    with acting_in(workspace):
        assert Account.objects.count() >= 50
        assert Contact.objects.count() >= 200
        names = list(Contact.objects.values_list("display_name", flat=True))
        assert any(has_han(n) for n in names) and any(not has_han(n) for n in names)
        phones = list(ContactPoint.objects.filter(kind="phone").values_list("value", flat=True))
        for code in ("+86", "+852", "+886", "+1"):
            assert any(p.startswith(code) for p in phones), code
        assert {"CN", "HK", "TW", "US"} <= set(Address.objects.values_list("country", flat=True))
        oldest = Interaction.objects.order_by("occurred_at").first().occurred_at
        assert oldest < timezone.now() - timedelta(days=300)
        assert Activity.objects.filter(status="open").exists()
        assert Activity.objects.filter(status="done", interaction__isnull=False).exists()
        assert ContactPoint.objects.exclude(consent_state={}).exists()
        # people entered twice, already proposed for review
        from guanxi.customers.models import DuplicatePair

        twins = Contact.objects.filter(source="展会名片")
        assert twins.count() >= 6
        proposed = DuplicatePair.objects.filter(status="proposed")
        assert {p.contact_b_id for p in proposed} >= set(twins.values_list("pk", flat=True))
        assert "possible duplicates to review" in out.getvalue()
        count = Contact.objects.count()
    prepare_demo(stdout=io.StringIO())  # preparing again adds no second data set
    with acting_in(workspace):
        assert Contact.objects.count() == count


@EMBEDDED_ONLY
def test_a_database_not_set_up_is_named_not_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "generate", "--customers", "10"],
        env=_env(tmp_path), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert "run `guanxi migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
