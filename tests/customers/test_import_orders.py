"""Imports of historical orders through the engine: English and Chinese headers, one row per
line grouped by order number or one row per order, accounts by external id or name (only
those the importer can see), per-row errors, the same file twice, resume after a stop,
orders split across batches, undo (created removed, updated restored), the CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from guanxi.customers.imports import engine, mapping
from guanxi.customers.models import ImportJob
from guanxi.customers.services import create_account
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from guanxi.sales import orders
from guanxi.sales.models import Order, OrderLine
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "orders-zh.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path, workspace):
    settings.MEDIA_ROOT = tmp_path
    with acting_in(workspace):
        yield


@pytest.fixture
def accounts(admin):
    return {
        "K-100": create_account(workspace=admin.workspace, by=admin.user, name="远景贸易",
                                external_id="K-100"),
        "K-200": create_account(workspace=admin.workspace, by=admin.user, name="Harbor Ltd",
                                external_id="K-200"),
    }  # fmt: skip


def job_for(member, text, name="orders.csv", **kwargs):
    return engine.create_job(
        membership=member, kind="orders", upload=text.encode(), file_name=name, **kwargs
    )


def _orders(workspace):
    return {o.number: o for o in Order.objects.for_workspace(workspace).prefetch_related("lines")}


def test_headers_in_chinese_and_english_are_recognised():
    zh = mapping.suggest(["订单号", "下单日期", "客户编号", "客户名称", "产品", "数量", "单价",
                          "折扣", "金额", "币种", "状态"], "orders")  # fmt: skip
    assert [m["field"] for m in zh.values()] == [
        "number", "ordered_at", "account_external_id", "account_name", "product_name",
        "quantity", "unit_price", "discount_percent", "amount", "currency", "status",
    ]  # fmt: skip
    en = mapping.suggest(["Order No", "Order Date", "Customer ID", "Customer", "Product",
                          "Qty", "Unit Price", "Discount", "Amount"], "orders")  # fmt: skip
    assert [m["field"] for m in en.values()] == [
        "number", "ordered_at", "account_external_id", "account_name", "product_name",
        "quantity", "unit_price", "discount_percent", "amount",
    ]  # fmt: skip


def test_a_mapping_needs_the_number_and_the_account(admin):
    job = job_for(admin, "订单号,金额\nA,1\n")
    with pytest.raises(ValidationFailed) as caught:
        engine.set_mapping(job=job, mapping={"订单号": "number", "金额": "amount"})
    assert "account" in str(caught.value)


def test_the_sample_dry_run_then_run(admin, accounts, workspace):
    job = job_for(admin, SAMPLE.read_text(encoding="utf-8"), name=SAMPLE.name)
    counts = engine.dry_run(job)
    assert not Order.objects.for_workspace(workspace).exists()
    assert (counts["total"], counts["created"], counts["errors"]) == (10, 4, 6)
    errors = {e["line"]: e for e in counts["errors_sample"]}
    assert errors[6]["column"] == "客户编号" and "K-999" in errors[6]["message"]
    assert (errors[7]["column"], errors[7]["value"]) == ("数量", "-3")
    assert (errors[8]["column"], errors[8]["value"]) == ("下单日期", "昨天")
    assert errors[9]["column"] == "状态" and errors[10]["column"] == "订单号"
    assert (errors[11]["column"], errors[11]["value"]) == ("单价", "abc")
    job = engine.run(job)
    assert job.counts["created"] == 4 and job.counts["errors"] == 6
    stored = _orders(workspace)
    assert sorted(stored) == ["SO-2024-001", "SO-2024-002", "SO-2024-003"]
    first = stored["SO-2024-001"]
    assert (first.amount, first.status, first.source) == (Decimal("4690.00"), "fulfilled", "import")
    assert [(line.sku, line.discount_percent) for line in first.lines.all()] == [
        ("FT-100", 0), ("SW-24", 10)
    ]  # fmt: skip
    assert stored["SO-2024-002"].account == accounts["K-100"]
    assert stored["SO-2024-002"].amount == Decimal("8800")
    assert (stored["SO-2024-003"].currency, stored["SO-2024-003"].amount) == ("USD", 1600)
    header, rows = engine.error_report(job)
    report = list(rows)
    assert header[-2:] == ["line", "errors"] and len(report) == 6
    assert report[0][2] == "K-999" and "K-999" in report[0][-1]


def test_the_same_orders_again_add_nothing(admin, accounts, workspace):
    text = SAMPLE.read_text(encoding="utf-8")
    engine.run(job_for(admin, text))
    again = engine.run(job_for(admin, text))
    assert again.counts["created"] == 0 and again.counts["skipped"] == 4
    updating = engine.run(job_for(admin, text, policy="update"))
    assert updating.counts["updated"] == 0 and updating.counts["skipped"] == 4
    assert Order.objects.for_workspace(workspace).count() == 3
    assert OrderLine.objects.filter(order__workspace=workspace).count() == 3


def test_update_then_undo_restores(admin, accounts, workspace):
    with acting_in(workspace):
        orders.upsert_order(
            workspace=workspace, by=admin.user, number="SO-1", account=accounts["K-100"],
            ordered_at=date(2024, 1, 2), amount="50",
            status="confirmed",
        )  # fmt: skip
    text = (
        "订单号,下单日期,客户编号,产品,数量,单价,状态\n"
        "SO-1,2024-01-02,K-100,纸箱,10,3,已完成\n"
        "SO-2,2024-01-05,K-200,胶带,4,2.5,\n"
    )
    job = engine.run(job_for(admin, text, policy="update"))
    assert (job.counts["updated"], job.counts["created"]) == (1, 1)
    stored = _orders(workspace)
    assert (stored["SO-1"].amount, stored["SO-1"].status) == (Decimal("30.00"), "fulfilled")
    assert stored["SO-1"].lines.count() == 1
    result = engine.undo(job, by=admin.user)
    assert result == {"removed": 1, "restored": 1}
    stored = _orders(workspace)
    assert sorted(stored) == ["SO-1"]
    assert (stored["SO-1"].amount, stored["SO-1"].status) == (Decimal("50.00"), "confirmed")
    assert stored["SO-1"].lines.count() == 0
    # the numbers are free again: the file comes in once more
    assert engine.run(job_for(admin, text)).counts["created"] == 1


def test_an_order_split_across_batches_and_a_resume(admin, accounts, workspace):
    rows = ["订单号,下单日期,客户编号,产品,数量,单价"]
    for n in range(9):  # three orders of three lines each
        rows.append(f"SO-{n // 3},2024-02-0{n // 3 + 1},K-100,产品{n},1,{n + 1}")
    job = job_for(admin, "\n".join(rows) + "\n")
    engine.run(job, batch=2, stop_after=2)  # as if killed after four rows
    job.refresh_from_db()
    assert job.checkpoint == 5 and job.status == ImportJob.Status.RUNNING
    assert _orders(workspace)["SO-1"].lines.count() == 1
    job = engine.run(job, batch=2)
    assert job.status == ImportJob.Status.DONE and job.counts["created"] == 9
    stored = _orders(workspace)
    assert sorted(stored) == ["SO-0", "SO-1", "SO-2"]
    assert [line.product_name for line in stored["SO-1"].lines.all()] == ["产品3", "产品4", "产品5"]
    assert stored["SO-2"].amount == Decimal("24.00")  # 7 + 8 + 9
    assert engine.undo(job, by=admin.user) == {"removed": 3, "restored": 0}
    assert not Order.objects.for_workspace(workspace).exists()


def test_only_accounts_the_importer_can_see(admin, workspace, team):
    create_account(workspace=workspace, by=admin.user, name="总部客户", external_id="K-9")
    rep = make_member(workspace=workspace, role_key="sales_rep", username="rep",
                      team=make_team(workspace=workspace, name="华南"))  # fmt: skip
    job = job_for(rep, "订单号,下单日期,客户名称,金额\nSO-9,2024-01-01,总部客户,10\n")
    counts = engine.dry_run(job)
    assert counts["errors"] == 1
    assert "总部客户" in counts["errors_sample"][0]["message"]


def test_from_the_command_line(admin, accounts, workspace):
    out, err = StringIO(), StringIO()
    call_command("import", str(SAMPLE), "--type", "orders", "--workspace", "acme",
                 "--user", "root", stdout=out, stderr=err)  # fmt: skip
    result = json.loads(out.getvalue())
    assert result["created"] == 4 and result["errors"] == 6
    assert Order.objects.for_workspace(workspace).count() == 3


def test_through_the_api(api, admin, accounts):
    client = api(admin)
    with SAMPLE.open("rb") as upload:
        response = client.client.post(
            "/api/v1/imports", {"file": upload, "type": "orders"},
            headers={"Authorization": f"Bearer {client.token}"},
        )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["type"] == "orders"


def test_in_the_wizard(admin, accounts, workspace):
    from tests.web.test_pages import browser

    client = browser(admin)
    assert '<option value="orders"' in client.get("/imports/").content.decode()
    upload = client.post("/imports/", {"file": SimpleUploadedFile("订单.csv", SAMPLE.read_bytes()),
                                       "type": "orders", "policy": "skip"})  # fmt: skip
    assert upload.status_code == 302, upload.content[:500]
    page = client.get(upload["Location"]).content.decode()
    assert '<option value="number" selected>' in page
    job = ImportJob.objects.for_workspace(workspace).get()
    form = {f"field-{i}": job.mapping[column]["field"] for i, column in enumerate(job.columns)}
    done = client.post(upload["Location"], {**form, "policy": "skip", "step": "run"})
    assert done.status_code == 302, done.content[:500]
    job.refresh_from_db()
    assert (job.status, job.error, job.counts.get("created")) == ("done", "", 4)
    assert Order.objects.for_workspace(workspace).count() == 3
