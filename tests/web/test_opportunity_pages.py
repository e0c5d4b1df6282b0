"""The opportunity pages: the board (columns, totals, moves, 409, lost and reopen reasons),
the list (filters, sort, keyset pages, CSV), the record page, the forms, the 360 panel,
visibility and query budgets."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.sales import board, services
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageChange
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


def htmx(client, method, path, data=None):
    return getattr(client, method)(path, data or {}, headers={"HX-Request": "true"})


def stage(workspace, key):
    return Stage.objects.for_workspace(workspace).get(pipeline__key="sales", key=key)


@pytest.fixture
def account(workspace, rep):
    return customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")


@pytest.fixture
def deals(workspace, rep, account):
    """Five deals of the rep: 3 in qualification, 1 in proposal, 1 won."""
    made = []
    for index, (key, amount) in enumerate(
        [("qualification", 1000), ("qualification", 2000), ("qualification", 3000),
         ("proposal", 10000), ("closed_won", 50000)]
    ):  # fmt: skip
        made.append(
            services.create_opportunity(
                workspace=workspace,
                by=rep.user,
                name=f"光纤采购 {index}",
                account=account,
                amount=amount,
                stage=stage(workspace, key),
                expected_close_date=timezone.localdate() + timedelta(days=index),
            )
        )
    return made


@pytest.fixture
def manager(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


def column_counts(html: str) -> dict[str, int]:
    return {
        stage_id: int(count)
        for stage_id, count in re.findall(
            r'data-stage="(sstg_\w+)".*?data-count="(\d+)"', html, flags=re.S
        )
    }


# --- the board --------------------------------------------------------------------------------
def test_board_shows_columns_cards_and_totals(workspace, rep, deals):
    page = browser(rep).get("/opportunities/board/").content.decode()
    counts = column_counts(page)
    assert counts[stage(workspace, "qualification").public_id] == 3
    assert counts[stage(workspace, "proposal").public_id] == 1
    assert counts[stage(workspace, "closed_won").public_id] == 1
    assert counts[stage(workspace, "closed_lost").public_id] == 0
    assert 'data-total="6000' in page  # 1,000 + 2,000 + 3,000 in qualification
    assert "Weighted 600 CNY" in page  # at 10 %
    assert "光纤采购 3" in page
    assert "光纤采购 4" not in page  # won deals are counted, not shown as cards
    assert page.index("光纤采购 2") < page.index("光纤采购 1")  # biggest first


def test_board_filters_by_owner_close_period_and_search(workspace, rep, team, deals, account):
    other = make_member(workspace=workspace, team=team, username="zhao")
    services.create_opportunity(
        workspace=workspace, by=other.user, name="Teammate's deal", account=account,
        expected_close_date=date(2020, 1, 1),
    )  # fmt: skip
    client = browser(rep)
    assert "Teammate&#x27;s deal" in client.get("/opportunities/board/").content.decode()
    mine = client.get("/opportunities/board/?owner=me").content.decode()
    assert "Teammate&#x27;s deal" not in mine and "光纤采购 0" in mine
    assert "Teammate" in client.get("/opportunities/board/?owner=zhao").content.decode()
    overdue = client.get("/opportunities/board/?close=overdue").content.decode()
    assert "Teammate&#x27;s deal" in overdue and "光纤采购 0" not in overdue
    found = client.get("/opportunities/board/?q=采购 2").content.decode()
    assert "光纤采购 2" in found and "光纤采购 1" not in found
    nobody = client.get("/opportunities/board/?owner=nobody-here").content.decode()
    assert "光纤采购" not in nobody


def test_board_columns_page_with_show_more(workspace, rep, account, monkeypatch):
    monkeypatch.setattr(board, "CARDS_PER_COLUMN", 2)
    for index in range(5):
        services.create_opportunity(
            workspace=workspace, by=rep.user, name=f"Deal {index}", account=account,
            amount=100 * (index + 1),
        )  # fmt: skip
    client = browser(rep)
    page = client.get("/opportunities/board/").content.decode()
    assert "Deal 4" in page and "Deal 3" in page and "Deal 2" not in page
    more = re.search(r'hx-get="(/opportunities/board/columns/[^"]+)"', page).group(1)
    second = htmx(client, "get", more.replace("&amp;", "&")).content.decode()
    assert "Deal 2" in second and "Deal 1" in second and "Deal 0" not in second
    last = re.search(r'hx-get="(/opportunities/board/columns/[^"]+)"', second).group(1)
    third = htmx(client, "get", last.replace("&amp;", "&")).content.decode()
    assert "Deal 0" in third and "Show more" not in third


def test_moving_a_card_updates_the_totals(workspace, rep, deals):
    client = browser(rep)
    deal = deals[0]
    proposal = stage(workspace, "proposal")
    response = htmx(client, "post", f"/opportunities/{deal.public_id}/move/",
                    {"stage": proposal.public_id, "version": deal.version, "back": ""})  # fmt: skip
    assert response.status_code == 200
    counts = column_counts(response.content.decode())
    assert counts[proposal.public_id] == 2
    assert counts[stage(workspace, "qualification").public_id] == 2
    deal.refresh_from_db()
    assert deal.stage == proposal and deal.probability == 50
    assert StageChange.objects.for_workspace(workspace).filter(opportunity=deal).count() == 2


def test_a_stale_move_answers_409_and_reloads(workspace, rep, deals):
    client = browser(rep)
    deal = deals[0]
    services.update_opportunity(opportunity=deal, by=rep.user, expected_version=1, next_step="x")
    response = htmx(client, "post", f"/opportunities/{deal.public_id}/move/",
                    {"stage": stage(workspace, "proposal").public_id, "version": 1})  # fmt: skip
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage.key == "qualification"


def test_moving_to_lost_asks_for_the_reason(workspace, rep, deals):
    client = browser(rep)
    deal, lost = deals[1], stage(workspace, "closed_lost")
    path = f"/opportunities/{deal.public_id}/move/"
    asked = htmx(client, "post", path, {"stage": lost.public_id, "version": deal.version})
    assert asked.status_code == 422
    assert asked["HX-Retarget"] == "#gx-dialog"
    assert 'name="loss_reason"' in asked.content.decode()
    done = htmx(client, "post", path,
                {"stage": lost.public_id, "version": deal.version, "loss_reason": "预算取消"})  # fmt: skip
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == lost and deal.loss_reason == "预算取消"


def test_reopening_a_won_deal_needs_the_right_and_a_reason(workspace, team, manager, account):
    report = make_member(workspace=workspace, team=team, manager=manager, username="report")
    won = services.create_opportunity(
        workspace=workspace, by=report.user, name="已赢单", account=account,
        stage=stage(workspace, "closed_won"),
    )  # fmt: skip
    negotiation = stage(workspace, "negotiation")
    path = f"/opportunities/{won.public_id}/move/"
    refused = htmx(browser(report), "post", path, {"stage": negotiation.public_id, "version": 1})
    assert refused.status_code == 403
    assert "reopen" in refused.content.decode()
    client = browser(manager)
    asked = htmx(client, "post", path, {"stage": negotiation.public_id, "version": 1})
    assert asked.status_code == 422 and 'name="reason"' in asked.content.decode()
    done = htmx(client, "post", path,
                {"stage": negotiation.public_id, "version": 1, "reason": "客户撤单"})  # fmt: skip
    assert done.status_code == 200
    won.refresh_from_db()
    assert won.stage == negotiation
    assert (
        StageChange.objects.for_workspace(workspace).filter(opportunity=won).latest("id").reason
        == "客户撤单"
    )


def test_move_without_javascript_redirects_to_the_board(workspace, rep, deals):
    response = browser(rep).post(
        f"/opportunities/{deals[0].public_id}/move/",
        {"stage": stage(workspace, "proposal").public_id, "version": 1, "back": "owner=me"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?owner=me")


def test_a_rep_does_not_see_another_teams_deal(workspace, account, rep):
    south = make_team(workspace=workspace, name="华南")
    stranger = make_member(workspace=workspace, team=south, username="chen")
    theirs = services.create_opportunity(
        workspace=workspace, by=stranger.user, name="Their deal", account=account
    )
    client = browser(rep)
    assert client.get(f"/opportunities/{theirs.public_id}/").status_code == 404
    move = client.post(f"/opportunities/{theirs.public_id}/move/",
                       {"stage": stage(workspace, "proposal").public_id, "version": 1})  # fmt: skip
    assert move.status_code == 404
    assert "Their deal" not in client.get("/opportunities/board/").content.decode()
    assert "Their deal" not in client.get("/opportunities/").content.decode()


def test_a_manager_sees_the_subtree_board(workspace, manager, account):
    south = make_team(workspace=workspace, name="华南")
    report = make_member(workspace=workspace, team=south, manager=manager, username="report")
    outsider = make_member(workspace=workspace, team=south, username="outsider")
    for member in (report, outsider):
        services.create_opportunity(
            workspace=workspace, by=member.user, name=f"Deal of {member.user.username}",
            account=account,
        )  # fmt: skip
    page = browser(manager).get("/opportunities/board/").content.decode()
    assert "Deal of report" in page and "Deal of outsider" not in page
    reports = browser(manager).get("/opportunities/board/?owner=reports").content.decode()
    assert "Deal of report" in reports


# --- the list ---------------------------------------------------------------------------------
def test_list_filters(workspace, rep, deals):
    client = browser(rep)
    names = lambda html: set(re.findall(r">(光纤采购 \d)<", html))  # noqa: E731
    assert len(names(client.get("/opportunities/").content.decode())) == 5
    assert names(client.get("/opportunities/?status=won").content.decode()) == {"光纤采购 4"}
    assert len(names(client.get("/opportunities/?status=open").content.decode())) == 4
    proposal = stage(workspace, "proposal").public_id
    assert names(client.get(f"/opportunities/?stage={proposal}").content.decode()) == {"光纤采购 3"}
    today = timezone.localdate()
    ranged = client.get(
        f"/opportunities/?close_after={today + timedelta(days=1)}"
        f"&close_before={today + timedelta(days=2)}"
    ).content.decode()
    assert names(ranged) == {"光纤采购 1", "光纤采购 2"}
    assert names(client.get("/opportunities/?pipeline=sales&owner=me").content.decode())
    assert names(client.get("/opportunities/?q=采购 0").content.decode()) == {"光纤采购 0"}


@pytest.mark.parametrize("sort", sorted(board.LIST_SORTS))
def test_list_pages_by_keyset_in_every_sort(workspace, rep, account, sort, monkeypatch):
    from guanxi.web import opportunities as pages

    monkeypatch.setattr(pages, "LIST_PAGE", 3)
    for index in range(7):
        services.create_opportunity(
            workspace=workspace, by=rep.user, name=f"Deal {index % 3}-{index}", account=account,
            amount=index % 2, probability=index % 3,
            expected_close_date=date(2027, 1, 1 + index % 2) if index % 3 else None,
        )  # fmt: skip
    client = browser(rep)
    seen, path = [], f"/opportunities/?sort={sort}"
    first = client.get(path).content.decode()
    seen += re.findall(r">(Deal \d-\d)<", first)
    cursor = re.search(r'hx-get="\?([^"]*cursor=[^"]+)"', first)
    while cursor:
        page = htmx(client, "get", "/opportunities/?" + cursor.group(1).replace("&amp;", "&"))
        html = page.content.decode()
        seen += re.findall(r">(Deal \d-\d)<", html)
        cursor = re.search(r'hx-get="\?([^"]*cursor=[^"]+)"', html)
    assert sorted(seen) == sorted(f"Deal {i % 3}-{i}" for i in range(7))  # each once


def test_list_sorts_by_amount(workspace, rep, deals):
    html = browser(rep).get("/opportunities/?sort=-amount").content.decode()
    assert html.index("光纤采购 4") < html.index("光纤采购 3") < html.index("光纤采购 0")
    assert 'aria-sort="descending"' in html


def test_a_broken_cursor_starts_again(rep, deals):
    assert browser(rep).get("/opportunities/?cursor=garbage").status_code == 302


def test_csv_export_of_the_filtered_list(workspace, rep, deals):
    response = browser(rep).get("/opportunities/export/?status=open")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,name,account")
    assert len(lines) == 5  # header and the 4 open deals
    assert "光纤采购 4" not in body


# --- the record page and forms ----------------------------------------------------------------
def test_record_page(workspace, rep, deals, account):
    deal = deals[0]
    services.move_stage(opportunity=deal, stage=stage(workspace, "proposal"), by=rep.user,
                        expected_version=1)  # fmt: skip
    html = browser(rep).get(f"/opportunities/{deal.public_id}/").content.decode()
    assert "光纤采购 0" in html and "远景贸易" in html
    assert 'aria-current="step"' in html
    assert "Qualification → Proposal" in html  # the stage history
    assert f"/accounts/{account.public_id}/" in html
    assert "Contact roles" in html


def test_record_page_moves_with_the_stage_path(workspace, rep, deals):
    deal = deals[0]
    response = htmx(browser(rep), "post", f"/opportunities/{deal.public_id}/move/",
                    {"stage": stage(workspace, "negotiation").public_id, "version": 1,
                     "from": "record"})  # fmt: skip
    assert response["HX-Redirect"] == f"/opportunities/{deal.public_id}/"
    deal.refresh_from_db()
    assert deal.stage.key == "negotiation"


def test_edit_form_with_optimistic_locking(workspace, rep, deals):
    deal = deals[0]
    client = browser(rep)
    path = f"/opportunities/{deal.public_id}/edit/"
    form = client.get(path).content.decode()
    assert 'name="version" value="1"' in form
    services.update_opportunity(opportunity=deal, by=rep.user, expected_version=1,
                                next_step="先打电话")  # fmt: skip
    data = {"name": "光纤采购 改", "amount": "1500", "currency": "CNY", "next_step": "",
            "version": "1"}  # fmt: skip
    conflict = client.post(path, data).content.decode()
    assert "Someone else saved this opportunity" in conflict and "先打电话" in conflict
    assert 'name="version" value="2"' in conflict
    data["version"] = "2"
    assert client.post(path, data).status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.version) == ("光纤采购 改", 1500, 3)
    bad = client.post(path, {**data, "version": "3", "amount": "-1"}).content.decode()
    assert "gx-invalid" in bad


def test_new_opportunity_from_an_account(workspace, rep, account):
    client = browser(rep)
    form = client.get(f"/opportunities/new/?account={account.public_id}").content.decode()
    assert "远景贸易" in form
    proposal = stage(workspace, "proposal")
    response = client.post(
        "/opportunities/new/",
        {"account": account.public_id, "name": "新商机", "stage": proposal.public_id,
         "amount": "8000", "currency": "CNY", "expected_close_date": "2027-03-31"},
    )  # fmt: skip
    assert response.status_code == 302
    deal = Opportunity.objects.for_workspace(workspace).get(name="新商机")
    assert (deal.stage, deal.probability, deal.owner) == (proposal, 50, rep.user)
    missing = client.post("/opportunities/new/", {"name": "无客户", "currency": "CNY"})
    assert "Choose the account" in missing.content.decode()


def test_account_choices_while_typing(workspace, rep, account):
    html = htmx(browser(rep), "get", "/opportunities/new/accounts/?account_q=远景").content
    assert account.public_id in html.decode()


def test_the_customer_page_shows_the_opportunities_panel(workspace, rep, deals, account):
    html = browser(rep).get(f"/accounts/{account.public_id}/panels/opportunities/").content
    html = html.decode()
    assert f"/opportunities/{deals[0].public_id}/" in html
    assert f"/opportunities/new/?account={account.public_id}" in html
    assert deals[4].public_id not in html  # won: not open


def test_nav_links_to_the_board(rep):
    assert 'href="/opportunities/board/"' in browser(rep).get("/").content.decode()


def test_contact_roles_on_the_record_page(workspace, rep, deals, account):
    contact = customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account
    )
    client = browser(rep)
    deal = deals[0]
    page = client.get(f"/opportunities/{deal.public_id}/").content.decode()
    assert contact.public_id in page  # offered: a contact of the account
    client.post(f"/opportunities/{deal.public_id}/contact-roles/",
                {"contact": contact.public_id, "role": "decision_maker", "is_primary": "on"})  # fmt: skip
    page = client.get(f"/opportunities/{deal.public_id}/").content.decode()
    assert 'gx-badge">Decision maker' in page and 'gx-badge">Primary' in page
    role_id = re.search(r"contact-roles/(ocr_\w+)/remove/", page).group(1)
    client.post(f"/opportunities/{deal.public_id}/contact-roles/{role_id}/remove/")
    page = client.get(f"/opportunities/{deal.public_id}/").content.decode()
    assert 'gx-badge">Decision maker' not in page


# --- query budgets ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/opportunities/board/", "/opportunities/board/?owner=team&close=this_year&q=光纤",
     "/opportunities/", "/opportunities/?status=open&sort=-amount&owner=me",
     "/opportunities/new/"],
)  # fmt: skip
def test_pages_stay_within_the_query_budget(rep, deals, path, django_assert_max_num_queries):
    client = browser(rep)
    client.get("/")  # the session's first request pays for setting things up
    with django_assert_max_num_queries(12):
        response = client.get(path)
    assert response.status_code == 200


def test_record_page_and_moves_within_the_budget(
    workspace, rep, deals, account, django_assert_max_num_queries
):
    customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account
    )
    client = browser(rep)
    client.get("/")
    with django_assert_max_num_queries(12):
        assert client.get(f"/opportunities/{deals[0].public_id}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/opportunities/{deals[0].public_id}/edit/").status_code == 200


def test_board_with_several_pipelines_offers_a_choice(workspace, rep, deals):
    Pipeline.objects.create(workspace=workspace, key="projects", name="项目", position=1)
    html = browser(rep).get("/opportunities/board/").content.decode()
    assert 'name="pipeline"' in html and "项目" in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "03/05/2027"),
        ("zh-hans", "2027年3月5日"),
        ("zh-hant", "2027年3月5日"),
        ("de", "05.03.2027"),
    ],
)
def test_short_dates_as_the_date_filter_writes_them(language, expected):
    from datetime import date

    from django.template import Context, Template
    from django.utils import translation

    from guanxi.web.common import short_date

    day = date(2027, 3, 5)
    with translation.override(language):
        assert short_date(day) == expected
        template = Template('{{ day|date:"SHORT_DATE_FORMAT" }}')
        assert template.render(Context({"day": day})) == expected


def test_names_are_escaped_on_the_board_and_the_list(workspace, rep):
    hostile = customers.create_account(workspace=workspace, by=rep.user, name='<i>"Acme"</i>')
    services.create_opportunity(
        workspace=workspace, by=rep.user, name="<script>alert(1)</script> & co", account=hostile,
        amount=5,
    )  # fmt: skip
    client = browser(rep)
    for path in ("/opportunities/board/", "/opportunities/"):
        html = client.get(path).content.decode()
        assert "<script>alert(1)" not in html and "<i>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
        assert "&lt;i&gt;&quot;Acme&quot;&lt;/i&gt;" in html
