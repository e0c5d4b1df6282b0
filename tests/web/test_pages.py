"""Server side of the web pages: what they show, who may see them, how many queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.services import ContactPointInput
from guanxi.platform.context import acting_in
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


@pytest.fixture
def contacts(workspace, rep):
    account = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")
    return [
        customers.create_contact(
            workspace=workspace,
            by=rep.user,
            family_name="张",
            given_name=f"伟{i}",
            account=account,
            tags=["vip"],
            contact_points=[ContactPointInput(kind="phone", value=f"138 0013 80{i:02d}")],
        )
        for i in range(30)
    ]


def test_home_lists_my_open_activities_overdue_first(workspace, rep, contacts):
    now = timezone.now()
    timeline.create_activity(workspace=workspace, by=rep.user, kind="call", subject="明天回访",
                             contact=contacts[0], due_at=now + timedelta(days=1))  # fmt: skip
    timeline.create_activity(workspace=workspace, by=rep.user, kind="task", subject="上周的报价",
                             contact=contacts[1], due_at=now - timedelta(days=7))  # fmt: skip
    page = browser(rep).get("/").content.decode()
    assert page.index("上周的报价") < page.index("明天回访")
    assert "gx-overdue" in page


@pytest.mark.parametrize("path", ["/contacts/", "/accounts/", "/search/?q=zw", "/"])
def test_pages_stay_within_the_query_budget(rep, contacts, path, django_assert_max_num_queries):
    client = browser(rep)
    with django_assert_max_num_queries(12):
        response = client.get(path)
    assert response.status_code == 200


def test_record_page_within_the_query_budget(rep, contacts, django_assert_max_num_queries):
    client = browser(rep)
    path = f"/contacts/{contacts[0].public_id}/"
    with django_assert_max_num_queries(12):
        response = client.get(path)
    assert response.status_code == 200
    assert "tel:+8613800138000" in response.content.decode()


def test_list_pages_follow_the_cursor(rep, contacts):
    client = browser(rep)
    first = client.get("/contacts/").content.decode()
    assert first.count('data-label="Name"') == 30  # one page holds them all
    response = client.get("/contacts/?cursor=garbage")
    assert response.status_code == 302  # a broken cursor starts the list again


def test_another_teams_record_is_404_and_a_read_only_role_cannot_edit(workspace, rep, contacts):
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    assert browser(other).get(f"/contacts/{contacts[0].public_id}/").status_code == 404
    analyst = make_member(workspace=workspace, role_key="analyst", username="analyst")
    assert browser(analyst).get(f"/contacts/{contacts[0].public_id}/").status_code == 200
    assert browser(analyst).get(f"/contacts/{contacts[0].public_id}/edit/").status_code == 403
    assert browser(analyst).get("/contacts/new/").status_code == 403


def test_logging_without_javascript_redirects_back(rep, contacts):
    path = f"/contacts/{contacts[0].public_id}/"
    response = browser(rep).post(path + "log/", {"channel": "visit", "subject": "上门拜访"})
    assert response.status_code == 302 and response["Location"] == path
    assert "上门拜访" in browser(rep).get(path).content.decode()


def test_signed_out_users_go_to_sign_in_and_come_back(contacts):
    response = Client(HTTP_HOST="127.0.0.1").get("/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/contacts/")


def test_chosen_language_is_remembered_for_the_user(rep):
    client = browser(rep)
    client.post("/language/", {"language": "zh-hant", "next": "/"})
    rep.user.refresh_from_db()
    assert rep.user.language == "zh-hant"
    elsewhere = browser(rep)  # another device: no cookie, an English browser
    page = elsewhere.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我的待辦活動" in page


def test_plan_an_activity_on_a_record_then_complete_it_onto_the_timeline(
    workspace, rep, contacts, django_assert_max_num_queries
):
    client = browser(rep)
    record = f"/contacts/{contacts[0].public_id}/"
    response = client.post(
        record + "activities/",
        {"kind": "visit", "subject": "上门拜访采购部", "due_at": "2030-05-01T10:00"},
    )
    assert response.status_code == 302 and response["Location"] == record
    with django_assert_max_num_queries(12):
        page = client.get("/activities/").content.decode()
    assert "上门拜访采购部" in page
    with acting_in(workspace):
        activity = Activity.objects.get(subject="上门拜访采购部")
    assert timezone.localtime(activity.due_at).hour == 10  # the user's wall-clock time

    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    stranger = browser(other).post(
        f"/activities/{activity.public_id}/complete/", {"version": activity.version}
    )
    assert stranger.status_code == 404
    done = client.post(
        f"/activities/{activity.public_id}/complete/",
        {"version": activity.version, "outcome": "确认了样品需求", "next": record},
    )
    assert done.status_code == 302 and done["Location"] == record
    timeline_html = client.get(record).content.decode()
    assert "确认了样品需求" in timeline_html
    again = client.post(f"/activities/{activity.public_id}/complete/", {"version": 1})
    assert again.status_code in (409, 422)  # already done: refused with a message
    assert "上门拜访采购部" in client.get("/activities/?status=done").content.decode()


def test_an_activity_without_subject_is_refused_with_a_message(rep, contacts):
    response = browser(rep).post(
        f"/contacts/{contacts[0].public_id}/activities/", {"kind": "call", "subject": " "}
    )
    assert response.status_code == 422


def test_completing_redirects_only_to_this_site(rep, contacts, workspace):
    activity = timeline.create_activity(
        workspace=workspace, by=rep.user, kind="call", subject="回访", contact=contacts[0]
    )
    response = browser(rep).post(
        f"/activities/{activity.public_id}/complete/",
        {"version": activity.version, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/activities/"


def test_record_page_shows_custom_fields_history_and_filters_the_timeline(
    workspace, admin, rep, contacts
):
    from guanxi.platform import services as platform

    platform.create_custom_field(
        workspace=workspace, by=admin.user, applies_to="customers.contact", key="segment",
        label="客户细分", field_type="choice", choices=["零售", "批发"],
    )  # fmt: skip
    contact = contacts[0]
    contact = customers.update_contact(
        contact=contact, by=rep.user, expected_version=contact.version,
        given_name="伟明", lifecycle_stage="customer", custom_fields={"segment": "批发"},
    )  # fmt: skip
    timeline.record_interaction(workspace=workspace, by=rep.user, channel="email",
                                direction="inbound", contact=contact, subject="询价邮件")  # fmt: skip
    timeline.record_interaction(workspace=workspace, by=rep.user, channel="visit",
                                direction="outbound", contact=contact, subject="拜访")  # fmt: skip
    client = browser(rep)
    page = client.get(f"/contacts/{contact.public_id}/").content.decode()
    assert "客户细分" in page and "批发" in page
    assert "伟0" in page and "伟明" in page  # the name change, old and new
    assert f"<ins>{contact.lifecycle_stage.name}</ins>" in page  # the stage change, by name
    only_email = client.get(f"/contacts/{contact.public_id}/timeline/?channel=email")
    assert "询价邮件" in only_email.content.decode()
    assert "拜访" not in only_email.content.decode()


def test_possible_duplicates_while_typing(workspace, rep, contacts):
    client = browser(rep)
    shown = client.get("/duplicates/", {"phone": "+86 138-0013-8000", "email": ""})
    assert "张伟0" in shown.content.decode()
    assert "The phone is saved as +8613800138000." in shown.content.decode()
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    hidden = browser(other).get("/duplicates/", {"phone": "13800138000"}).content.decode()
    assert "张伟0" not in hidden and "1 customer you cannot see" in hidden
    assert browser(rep).get("/duplicates/", {"phone": "12"}).content.decode().strip() == ""


def test_list_filters_and_counts(workspace, rep, contacts):
    client = browser(rep)
    page = client.get("/contacts/", {"tag": "vip"}).content.decode()
    assert 'hx-get="/contacts/count/?tag=vip&amp;cols=' in page  # the count follows the page

    def count(**params):
        return client.get("/contacts/count/", params).content.decode().strip()

    assert count() == "30 found"
    assert count(tag="vip", owner="me") == "30 found"
    assert count(tag="nobody") == "0 found"
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert count(updated_since=tomorrow) == "0 found"
    assert count(team=rep.team.public_id) == "30 found"
    assert "Nothing to show." in client.get("/contacts/", {"tag": "nobody"}).content.decode()


def test_counts_stop_at_ten_thousand(monkeypatch, rep, contacts):
    from guanxi.web import customer_lists as pages

    monkeypatch.setattr(pages, "COUNT_LIMIT", 10)
    page = browser(rep).get("/contacts/count/").content.decode()
    assert "More than 10 found" in page and "exact=1" in page
    assert browser(rep).get("/contacts/count/?exact=1").content.decode().strip() == "30 found"


def test_column_chooser_is_remembered_per_user(rep, contacts, django_assert_max_num_queries):
    client = browser(rep)
    with django_assert_max_num_queries(12):
        page = client.get("/contacts/", {"col": ["email", "tags", "city", "company"]})
    html = page.content.decode()
    assert '<th scope="col">Tags</th>' in html and 'data-label="Tags">vip<' in html
    assert '<th scope="col">Phone</th>' not in html
    rep.refresh_from_db()
    assert rep.preferences["columns"]["contacts"] == ["email", "tags", "city", "company"]
    again = client.get("/contacts/").content.decode()
    assert '<th scope="col">Tags</th>' in again  # remembered
    assert "cols=email%2Ctags%2Ccity%2Ccompany" in again  # and in the links it makes
    panel = client.get("/contacts/filters/").content.decode()
    assert 'name="col" value="tags" checked' in panel and 'name="col" value="phone">' in panel


def test_custom_field_columns_and_filters(workspace, admin, rep, contacts):
    from guanxi.platform.services import create_custom_field

    create_custom_field(workspace=workspace, applies_to="customers.contact", key="wine",
                        label="喜欢的酒", field_type="choice", choices=["白酒", "红酒"])  # fmt: skip
    customers.update_contact(contact=contacts[3], by=rep.user, expected_version=contacts[3].version,
                             custom_fields={"wine": "红酒"})  # fmt: skip
    client = browser(rep)
    html = client.get("/contacts/", {"cf.wine": "红酒", "cols": "cf.wine,phone"}).content.decode()
    assert html.count('data-label="喜欢的酒">红酒<') == 1 and "张伟3" in html
    assert client.get("/contacts/count/", {"cf.wine": "红酒"}).content.decode().strip() == "1 found"


def test_created_ranges_and_tier(rep, contacts):
    client = browser(rep)
    today = timezone.localdate().isoformat()
    assert client.get("/contacts/count/", {"created_since": today, "created_until": today}
                      ).content.decode().strip() == "30 found"  # fmt: skip
    assert client.get("/contacts/count/", {"tier": "A"}).content.decode().strip() == "0 found"


def test_saved_views_private_and_shared(workspace, rep, contacts):
    from guanxi.platform.models import SavedView

    client = browser(rep)
    response = client.post("/contacts/views/", {"name": "我的VIP", "query": "tag=vip&cols=tags"})
    view = SavedView.objects.for_workspace(workspace).get(name="我的VIP")
    assert response["Location"] == f"/contacts/?tag=vip&cols=tags&view={view.public_id}"
    colleague = make_member(workspace=workspace, role_key="sales_rep", username="wang",
                            team=rep.team)  # fmt: skip
    assert "我的VIP" not in browser(colleague).get("/contacts/").content.decode()
    assert "我的VIP" in client.get("/contacts/").content.decode()
    client.post("/contacts/views/", {"name": "我的VIP", "query": "tag=vip", "is_shared": "on"})
    assert SavedView.objects.for_workspace(workspace).filter(name="我的VIP").count() == 1
    assert "我的VIP" in browser(colleague).get("/contacts/").content.decode()
    # a colleague may use it, not delete it
    assert browser(colleague).post(f"/contacts/views/{view.public_id}/delete/").status_code == 404
    assert client.post(f"/contacts/views/{view.public_id}/delete/").status_code == 302
    assert f"view={view.public_id}" not in client.get("/contacts/").content.decode()


def test_calendar_feed_shows_my_activities_to_whoever_has_the_secret_link(workspace, rep, contacts):
    from icalendar import Calendar

    due = timezone.now().replace(microsecond=0) + timedelta(days=2)
    timeline.create_activity(
        workspace=workspace, by=rep.user, kind="meeting", subject="季度业务回顾",
        contact=contacts[0], due_at=due, remind_at=due - timedelta(hours=1),
    )  # fmt: skip
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    theirs = customers.create_contact(workspace=workspace, by=other.user, family_name="Lee")
    timeline.create_activity(workspace=workspace, by=other.user, kind="call",
                             subject="别人的电话", due_at=due, contact=theirs)  # fmt: skip
    client = browser(rep)
    page = client.post("/activities/calendar/").content.decode()
    url = re.search(r'value="(http://127\.0\.0\.1(/calendar/cal_[^"]+\.ics))"', page).group(2)

    anonymous = Client(HTTP_HOST="127.0.0.1")
    response = anonymous.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["季度业务回顾 · 张伟0"]
    assert events[0].decoded("dtstart") == due
    assert events[0].walk("VALARM")

    client.post("/activities/calendar/")  # a new link retires the old one
    assert anonymous.get(url).status_code == 404
    assert anonymous.get("/calendar/cal_" + "x" * 43 + ".ics").status_code == 404


def test_bulk_stage_tag_and_owner_with_rights_checked_per_row(workspace, team, rep, contacts):
    from guanxi.customers.models import Contact

    manager = make_member(workspace=workspace, role_key="sales_manager", team=team,
                          username="boss")  # fmt: skip
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team,
                            username="next.rep")  # fmt: skip
    from guanxi.platform import services as platform

    platform.change_membership(
        membership=rep, by=manager.user, expected_version=rep.version, manager=manager
    )
    ids = [c.public_id for c in contacts[:3]]
    client = browser(rep)
    response = client.post("/contacts/bulk/", {"ids": ids, "action": "stage", "stage": "customer"})
    assert response.status_code == 302
    assert "3 changed." in client.get("/contacts/").content.decode()
    client.post("/contacts/bulk/", {"ids": ids[:2], "action": "tag", "tag": "展会客户"})
    with acting_in(workspace):
        rows = {c.public_id: c for c in Contact.objects.filter(public_id__in=ids)}
        assert {rows[i].lifecycle_stage.key for i in ids} == {"customer"}
        assert [t.name for t in rows[ids[0]].tags.all()].count("展会客户") == 1
        assert "展会客户" not in [t.name for t in rows[ids[2]].tags.all()]

    # a rep may not reassign: nothing changes, and the page says so
    client.post("/contacts/bulk/", {"ids": ids, "action": "owner", "owner": colleague.public_id})
    page = client.get("/contacts/").content.decode()
    assert "3 not changed" in page
    boss = browser(manager)
    boss.post("/contacts/bulk/", {"ids": ids, "action": "owner", "owner": colleague.public_id})
    with acting_in(workspace):
        owners = set(
            Contact.objects.filter(public_id__in=ids).values_list("owner__username", flat=True)
        )
    assert owners == {"next.rep"}


def test_my_week_puts_activities_on_their_day(workspace, rep, contacts):
    from datetime import datetime, time

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    wednesday = timezone.make_aware(datetime.combine(monday + timedelta(days=2), time(15, 30)))
    timeline.create_activity(workspace=workspace, by=rep.user, kind="meeting",
                             subject="周三的会", contact=contacts[0], due_at=wednesday)  # fmt: skip
    page = browser(rep).get("/activities/week/").content.decode()
    days = page.split('class="gx-day')[1:]
    assert len(days) == 7
    assert "周三的会" in days[2] and "15:30" in days[2]
    following = browser(rep).get(
        "/activities/week/", {"week": (monday + timedelta(days=7)).isoformat()}
    )
    assert "周三的会" not in following.content.decode()


def test_switching_workspace_for_a_user_in_two(workspace, rep, contacts):
    from tests.factories import make_workspace

    dealer = make_workspace(slug="dealer", name="经销商 Dealer")
    from guanxi.platform import services as platform
    from guanxi.platform.models import Role

    second = platform.add_member(
        workspace=dealer, user=rep.user,
        role=Role.objects.for_workspace(dealer).get(key="sales_rep"),
    )  # fmt: skip
    customers.create_contact(workspace=dealer, by=rep.user, family_name="经销商", given_name="客户")
    client = browser(rep)
    home = client.get("/").content.decode()
    assert "经销商 Dealer" in home  # the switcher appears for people in several workspaces
    assert "张伟0" in client.get("/contacts/").content.decode()
    response = client.post("/workspace/", {"workspace": dealer.public_id})
    assert response.status_code == 302
    listed = client.get("/contacts/").content.decode()
    assert "经销商客户" in listed and "张伟0" not in listed
    assert second.workspace_id == dealer.pk
    stranger = make_workspace(slug="stranger", name="Stranger")
    assert client.post("/workspace/", {"workspace": stranger.public_id}).status_code == 404


def test_impossible_dates_in_forms_and_links_are_refused_cleanly(rep, contacts):
    client = browser(rep)
    assert client.get("/contacts/", {"updated_since": "2025-13-01"}).status_code == 200
    assert client.get("/contacts/count/", {"updated_since": "2025-02-30"}).status_code == 200
    assert client.get("/activities/week/", {"week": "2025-13-01"}).status_code == 200
    response = client.post(
        f"/contacts/{contacts[0].public_id}/activities/",
        {"kind": "call", "subject": "回访", "due_at": "2025-02-30T10:00"},
    )
    assert response.status_code == 422
    assert "due_at" in response.content.decode()


def test_inline_edit_saves_one_field_and_reports_conflicts(workspace, rep, admin, contacts):
    contact = contacts[0]
    client = browser(rep)
    url = f"/contacts/{contact.public_id}/fields/occupation/"
    page = client.get(f"/contacts/{contact.public_id}/").content.decode()
    assert f'hx-get="{url}"' in page
    editor = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="occupation"' in editor and f'name="version" value="{contact.version}"' in editor
    saved = client.post(url, {"occupation": "采购经理", "version": contact.version})
    assert (
        "采购经理" in saved.content.decode() and 'name="occupation"' not in saved.content.decode()
    )
    contact.refresh_from_db()
    assert contact.occupation == "采购经理"
    # someone else saves in between: the stale save is refused and shows theirs
    stale = contact.version
    customers.update_contact(contact=contact, by=admin.user, expected_version=stale,
                             occupation="总经理")  # fmt: skip
    refused = client.post(url, {"occupation": "副总", "version": stale}).content.decode()
    assert "总经理" in refused and "root" in refused and 'value="副总"' in refused
    contact.refresh_from_db()
    assert contact.occupation == "总经理"
    version = re.search(r'name="version" value="(\d+)"', refused).group(1)
    assert "副总" in client.post(url, {"occupation": "副总", "version": version}).content.decode()
    contact.refresh_from_db()
    assert contact.occupation == "副总"


def test_inline_edit_validates_and_guards(workspace, rep, contacts):
    contact = contacts[0]
    client = browser(rep)
    bad = client.post(f"/contacts/{contact.public_id}/fields/lifecycle_stage/",
                      {"lifecycle_stage": "nonsense", "version": contact.version})  # fmt: skip
    assert "gx-error" in bad.content.decode()
    assert client.get(f"/contacts/{contact.public_id}/fields/owner/").status_code == 404
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    url = f"/contacts/{contact.public_id}/fields/occupation/"
    assert browser(other).post(url, {"occupation": "x", "version": 1}).status_code == 404


def test_day_view_shows_my_hours(workspace, rep, contacts):
    day = timezone.localdate() + timedelta(days=3)
    due = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())
                              ) + timedelta(hours=21, minutes=30)  # fmt: skip
    timeline.create_activity(workspace=workspace, by=rep.user, kind="call", subject="晚上回电",
                             contact=contacts[0], due_at=due)  # fmt: skip
    page = browser(rep).get("/activities/day/", {"day": day.isoformat()}).content.decode()
    assert "08:00" in page and "21:00" in page and "晚上回电" in page
    assert "晚上回电" not in browser(rep).get("/activities/day/").content.decode()


def test_service_errors_are_shown_in_the_users_language(workspace, rep, contacts):
    rep.user.language = "zh-hans"
    rep.user.save(update_fields=["language"])
    client = browser(rep)
    page = client.post("/contacts/new/", {"family_name": "", "given_name": "",
                                          "phone": "12345"}).content.decode()  # fmt: skip
    assert "联系人需要姓或名" in page or "不是有效号码" in page or "位数" in page
    taken = client.post("/contacts/new/", {"family_name": "钱", "phone": "13800138000"})
    html = taken.content.decode()
    assert "已属于" in html and 'value="钱"' in html  # input kept, message in Chinese
    rep.user.language = "zh-hant"
    rep.user.save(update_fields=["language"])
    assert (
        "已屬於"
        in browser(rep)
        .post("/contacts/new/", {"family_name": "錢", "phone": "13800138000"})
        .content.decode()
    )


def test_panels_of_other_apps_load_on_the_record_page(workspace, rep, contacts, monkeypatch):
    from guanxi.customers import panels

    def render(*, customer, user):
        return [{"label": "积分", "value": f"{len(customer.display_name)} 分", "url": ""}]

    monkeypatch.setitem(panels._panels, "points", panels.Panel(
        "points", "会员积分", 50, render, template="web/customers/_panel_list.html"))  # fmt: skip
    client = browser(rep)
    contact = contacts[0]
    page = client.get(f"/contacts/{contact.public_id}/").content.decode()
    url = f"/contacts/{contact.public_id}/panels/points/"
    assert "会员积分" in page and f'hx-get="{url}"' in page
    assert "3 分" in client.get(url).content.decode()
    assert client.get(f"/contacts/{contact.public_id}/panels/timeline/").status_code == 404
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    assert browser(other).get(url).status_code == 404


def test_expired_session_leads_to_sign_in_and_back(rep, contacts):
    path = f"/contacts/{contacts[0].public_id}/"
    anonymous = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    page = anonymous.get(path)
    assert page.status_code == 302 and page["Location"] == f"/login/?next={path}"
    # a fragment htmx asks for: the whole page goes to sign-in, then back to that page
    fragment = anonymous.get(path + "timeline/", HTTP_HX_REQUEST="true",
                             HTTP_HX_CURRENT_URL=f"http://127.0.0.1{path}")  # fmt: skip
    assert fragment.status_code == 204
    assert fragment["HX-Redirect"] == f"/login/?next={path}"
    # a form posted after the session expired (its CSRF token no longer matches)
    posted = anonymous.post(path + "log/", {"subject": "x"}, HTTP_REFERER=f"http://127.0.0.1{path}")
    assert posted.status_code == 302 and posted["Location"] == f"/login/?next={path}"
    followed = anonymous.get(posted["Location"]).content.decode()
    assert "Your session has expired" in followed


def test_csrf_failure_while_signed_in_explains_and_saves_nothing(rep, contacts):
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    client.force_login(rep.user)
    path = f"/contacts/{contacts[0].public_id}/"
    response = client.post(
        path + "log/", {"subject": "不该保存"}, HTTP_REFERER=f"http://127.0.0.1{path}"
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html and f'href="{path}"' in html
    assert "Traceback" not in html


def test_quick_log_from_anywhere(workspace, rep, contacts):
    client = browser(rep)
    contact = contacts[2]
    record = client.get(f"/contacts/{contact.public_id}/").content.decode()
    assert f'href="/log/?customer=contacts:{contact.public_id}"' in record
    choices = client.get("/log/customers/", {"q": "张伟2"}).content.decode()
    assert f'value="contacts:{contact.public_id}"' in choices
    missing = client.post("/log/", {"subject": "", "channel": "phone"})
    assert missing.status_code == 422 and "Choose the customer" in missing.content.decode()
    done = client.post("/log/", {"customer": f"contacts:{contact.public_id}", "channel": "phone",
                                 "direction": "inbound", "subject": "客户来电询价"})  # fmt: skip
    assert done["Location"] == f"/contacts/{contact.public_id}/"
    assert "客户来电询价" in client.get(done["Location"]).content.decode()
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    refused = browser(other).post("/log/", {"customer": f"contacts:{contact.public_id}",
                                            "subject": "偷看"})  # fmt: skip
    assert refused.status_code == 422  # another team's contact: as if it did not exist


def test_new_contact_form_suggests_the_same_person_by_name(workspace, rep, contacts):
    html = browser(rep).get("/duplicates/", {"family_name": "張", "given_name": "偉3",
                                             "phone": "", "email": ""}).content.decode()  # fmt: skip
    assert "Maybe the same person" in html and "张伟3" in html and "score" in html
