"""Sales through the API: pipelines, opportunities with defaults, validation problems,
moves and their history, reopening, locking, visibility, filters, cursors, query budgets."""

from __future__ import annotations

import pytest

from guanxi.customers import services as customers
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api, rep):
    return api(rep)


@pytest.fixture
def account(workspace, rep):
    return customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")


def _create(client, account, **fields):
    response = client.post("/opportunities", {"name": "光纤采购", "account_id": account.public_id}
                           | fields)  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def _problem_fields(response) -> set[str]:
    assert response["Content-Type"] == "application/problem+json"
    return {error["field"] for error in response.json().get("errors") or []}


def test_pipelines_with_their_stages(client):
    response = client.get("/pipelines")
    assert response.status_code == 200
    (pipeline,) = response.json()
    assert (pipeline["key"], pipeline["name"], pipeline["is_default"]) == ("sales", "Sales", True)
    assert [(s["key"], s["probability"], s["forecast_category"]) for s in pipeline["stages"]] == [
        ("qualification", 10, "pipeline"),
        ("needs_analysis", 20, "pipeline"),
        ("proposal", 50, "best_case"),
        ("negotiation", 80, "commit"),
        ("closed_won", 100, "closed"),
        ("closed_lost", 0, "omitted"),
    ]
    one = client.get(f"/pipelines/{pipeline['id']}")
    assert one.json()["stages"] == pipeline["stages"]
    assert one["ETag"] == '"1"'


def test_stage_names_follow_the_reader_language(client):
    stages = client.get("/pipelines", headers={"Accept-Language": "zh-hans"}).json()[0]["stages"]
    english = client.get("/pipelines", headers={"Accept-Language": "en"}).json()[0]["stages"]
    assert english[0]["name"] == "Qualification"
    assert [s["key"] for s in stages] == [s["key"] for s in english]


def test_create_with_defaults(client, account, team):
    body = _create(client, account, amount="250000.50", expected_close_date="2027-03-31")
    assert body["id"].startswith("opp_") and body["version"] == 1
    assert body["stage"]["key"] == "qualification" and body["probability"] == 10
    assert body["forecast_category"] == "pipeline" and not body["is_closed"]
    assert (body["amount"], body["currency"]) == ("250000.50", "CNY")
    assert body["owner"] == "li.na" and body["team"] == team.public_id
    assert body["account_id"] == account.public_id and body["account_name"] == "远景贸易"
    history = client.get(f"/opportunities/{body['id']}/stages").json()
    assert [(h["from_stage"], h["to_stage"]["key"], h["probability"]) for h in history] == [
        (None, "qualification", 10)
    ]


def test_create_in_a_stage_with_own_probability(client, account):
    body = _create(client, account, stage="proposal", probability=65, currency="usd")
    assert (body["stage"]["key"], body["probability"], body["currency"]) == ("proposal", 65, "USD")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"currency": "RMB1"}, "currency"),
        ({"stage": "closed_lost"}, "loss_reason"),
        ({"stage": "nowhere"}, "stage"),
        ({"pipeline": "nowhere"}, "pipeline"),
        ({"account_id": "acc_missing"}, "account_id"),
        ({"contact_id": "con_missing"}, "contact_id"),
    ],
)
def test_create_validation_problems(client, account, fields, field):
    body = {"name": "报价", "account_id": account.public_id} | fields
    response = client.post("/opportunities", body)
    assert response.status_code == 422, response.content
    assert field in _problem_fields(response)


def test_stage_of_another_pipeline(client, workspace, account):
    from guanxi.sales.models import Pipeline, Stage

    other = Pipeline.objects.create(workspace=workspace, key="renewals", name="Renewals")
    Stage.objects.create(workspace=workspace, pipeline=other, key="due", name="Due")
    response = client.post("/opportunities", {"name": "续约", "account_id": account.public_id,
                                              "pipeline": "sales", "stage": "due"})  # fmt: skip
    assert response.status_code == 422 and _problem_fields(response) == {"stage"}
    created = _create(client, account, pipeline="renewals", stage="due")
    assert created["pipeline"] == "renewals"


def test_invisible_account_is_as_good_as_missing(client, workspace):
    other_team = make_team(workspace=workspace, name="华南")
    stranger = make_member(workspace=workspace, team=other_team, username="stranger")
    hidden = customers.create_account(workspace=workspace, by=stranger.user, name="别组客户")
    response = client.post("/opportunities", {"name": "x", "account_id": hidden.public_id})
    assert response.status_code == 422 and _problem_fields(response) == {"account_id"}


def test_move_lose_and_history(client, account):
    deal = _create(client, account, amount="1000")
    path = f"/opportunities/{deal['id']}"
    moved = client.patch(path, {"stage": "negotiation", "version": 1})
    assert moved.status_code == 200, moved.content
    assert moved.json()["probability"] == 80 and moved["ETag"] == '"2"'
    lost = client.patch(path, {"stage": "closed_lost"}, headers={"If-Match": '"2"'})
    assert lost.status_code == 422 and _problem_fields(lost) == {"loss_reason"}
    lost = client.patch(path, {"stage": "closed_lost", "loss_reason": "预算取消"},
                        headers={"If-Match": '"2"'})  # fmt: skip
    body = lost.json()
    assert body["is_closed"] and not body["is_won"] and body["probability"] == 0
    assert body["closed_at"] is not None
    history = client.get(f"{path}/stages").json()
    assert [
        (h["from_stage"] and h["from_stage"]["key"], h["to_stage"]["key"]) for h in history
    ] == [
        (None, "qualification"),
        ("qualification", "negotiation"),
        ("negotiation", "closed_lost"),
    ]


def test_reopen_needs_the_right_and_a_reason(api, client, workspace, team, rep, account):
    deal = _create(client, account, stage="closed_won")
    path = f"/opportunities/{deal['id']}"
    denied = client.patch(path, {"stage": "proposal", "reason": "客户撤单", "version": 1})
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    admin = api(make_member(workspace=workspace, role_key="administrator", username="chief"))
    no_reason = admin.patch(path, {"stage": "proposal", "version": 1})
    assert no_reason.status_code == 422 and _problem_fields(no_reason) == {"reason"}
    reopened = admin.patch(path, {"stage": "proposal", "reason": "客户撤单", "version": 1})
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["closed_at"] is None and reopened.json()["probability"] == 50
    last = admin.get(f"{path}/stages").json()[-1]
    assert (last["reason"], last["changed_by"]) == ("客户撤单", "chief")


def test_optimistic_locking(client, account):
    deal = _create(client, account)
    path = f"/opportunities/{deal['id']}"
    assert client.patch(path, {"next_step": "约见"}).status_code == 428
    assert client.patch(path, {"next_step": "约见", "version": 1}).status_code == 200
    stale = client.patch(path, {"next_step": "报价", "version": 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2


def test_delete_is_soft_and_then_not_found(api, workspace, client, account):
    deal = _create(client, account)
    path = f"/opportunities/{deal['id']}"
    assert client.delete(path).status_code == 403  # reps do not delete
    admin = api(make_member(workspace=workspace, role_key="administrator", username="chief"))
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404


def test_rep_does_not_see_another_teams_opportunity(api, workspace, client, account):
    other_team = make_team(workspace=workspace, name="华南")
    stranger = api(make_member(workspace=workspace, team=other_team, username="stranger"))
    theirs = customers.create_account(workspace=workspace, by=stranger.membership.user,
                                      name="华南客户")  # fmt: skip
    deal = _create(stranger, theirs)
    response = client.get(f"/opportunities/{deal['id']}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get(f"/opportunities/{deal['id']}/stages").status_code == 404
    assert client.get("/opportunities").json()["items"] == []


def test_filters_and_cursor_pages(api, client, workspace, rep, team, account,
                                  django_assert_max_num_queries):  # fmt: skip
    mate = api(make_member(workspace=workspace, team=team, username="mate"))
    other = customers.create_account(workspace=workspace, by=rep.user, name="其他")
    for index in range(7):
        _create(client, account, name=f"mine {index}", amount=str(index * 100),
                expected_close_date=f"2027-0{index + 1}-15")  # fmt: skip
    _create(mate, other, name="mate's", stage="proposal")
    _create(client, other, name="won", stage="closed_won", amount="5")
    client.get("/me")
    with django_assert_max_num_queries(6):
        page = client.get("/opportunities", limit=4).json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    seen = [item["name"] for item in page["items"]]
    while page["next_cursor"]:
        page = client.get("/opportunities", limit=4, cursor=page["next_cursor"]).json()
        seen += [item["name"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == 9  # teammates' deals are visible to a rep

    def names(**filters):
        response = client.get("/opportunities", **filters)
        assert response.status_code == 200, response.content
        return {item["name"] for item in response.json()["items"]}

    assert names(owner="mate") == {"mate's"}
    assert len(names(owner="me")) == 8
    assert names(stage="proposal") == {"mate's"}
    assert names(status="won") == names(status="closed") == {"won"}
    assert len(names(status="open")) == 8
    assert names(account_id=other.public_id) == {"mate's", "won"}
    assert names(pipeline="sales", close_after="2027-02-01", close_before="2027-03-31") == {
        "mine 1", "mine 2"
    }  # fmt: skip
    amounts = [i["amount"] for i in client.get("/opportunities", sort="-amount").json()["items"]]
    assert amounts[0] == "600.00"
    assert client.get("/opportunities", status="sideways").status_code == 422
    assert client.get("/opportunities", cursor="garbage").status_code == 422


def test_detail_query_budget(client, account, django_assert_max_num_queries):
    deal = _create(client, account)
    client.get("/me")
    with django_assert_max_num_queries(4):
        assert client.get(f"/opportunities/{deal['id']}").status_code == 200


def test_idempotency_key_creates_once(client, account):
    body = {"name": "一次", "account_id": account.public_id}
    first = client.post("/opportunities", body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/opportunities", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert len(client.get("/opportunities").json()["items"]) == 1


def test_account_360_lists_open_opportunities(client, account):
    _create(client, account, name="开放", amount="10")
    _create(client, account, name="赢了", stage="closed_won")
    panels = client.get(f"/accounts/{account.public_id}/360").json()["panels"]
    assert [row["name"] for row in panels["opportunities"]] == ["开放"]
