"""The customer master from the command line: search and handover."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guanxi.customers.models import Contact
from guanxi.platform.context import acting_in
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(api, rep):
    return api(rep).post(
        "/contacts",
        {"family_name": "张", "given_name": "伟",
         "contact_points": [{"kind": "phone", "value": "138 0013 8000"}]},
    ).json()  # fmt: skip


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_search_as_a_user(workspace, rep, contact):
    out = run("search", "zw", "--workspace", "acme", "--username", "li.na")
    assert contact["id"] in out and "张伟" in out
    hit = json.loads(run("search", "8000", "--workspace", "acme", "--username", "li.na", "--json"))
    assert hit["id"] == contact["id"] and hit["matched"] == "phone"
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    assert run("search", "zw", "--workspace", "acme", "--username", other.user.username) == ""


def test_handover_moves_everything(workspace, team, rep, contact):
    make_member(workspace=workspace, role_key="sales_rep", team=team, username="next.rep")
    out = run("handover", "--workspace", "acme", "--from", "li.na", "--to", "next.rep")
    assert json.loads(out)["contacts"] == 1
    with acting_in(workspace):
        assert Contact.objects.get(public_id=contact["id"]).owner.username == "next.rep"


@pytest.mark.parametrize(
    "args",
    [
        ("search", "x", "--workspace", "nowhere", "--username", "li.na"),
        ("search", "x", "--workspace", "acme", "--username", "nobody"),
        ("handover", "--workspace", "acme", "--from", "li.na", "--to", "nobody"),
        ("handover", "--workspace", "acme", "--from", "li.na", "--to", "li.na"),
    ],
)
def test_bad_input_exits_2(rep, args):
    with pytest.raises(CommandError) as failure:
        call_command(*args)
    assert failure.value.returncode == 2
