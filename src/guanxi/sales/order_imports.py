"""Imports of historical orders through the customers' import engine (readers, mapping,
dry run, batches with their checkpoint, undo, error report), registered as the kind
``orders``.

A file has one row per order line — rows with the same order number form one order — or
one row per order with just its amount. A row names its account by external id or by name,
among the accounts the importer can see. Orders are written through ``upsert_order``: an
order number already stored is skipped (policy ``skip``/``review``) or updated in place
(``update``/``create``: an order number is unique), so importing a file again adds nothing.
An order whose rows span two batches is completed by the second: the job remembers the
orders it wrote (its row records), also after a resume.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.imports import engine, interactions
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.models import Account, ImportJob, ImportRow
from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.platform.models import User
from guanxi.platform.visibility import can
from guanxi.sales import orders
from guanxi.sales.models import Order

FIELDS = {
    "number": gettext_lazy("Order number"), "ordered_at": gettext_lazy("Ordered on"),
    "account_external_id": gettext_lazy("Account's external id"),
    "account_name": gettext_lazy("Account's name"), "status": gettext_lazy("Status"),
    "currency": gettext_lazy("Currency"), "product_name": gettext_lazy("Product"),
    "sku": gettext_lazy("SKU"), "quantity": gettext_lazy("Quantity"),
    "unit_price": gettext_lazy("Unit price"), "discount_percent": gettext_lazy("Discount (%)"),
    "amount": gettext_lazy("Amount (of the line, or of the order without lines)"),
    "fulfilled_on": gettext_lazy("Fulfilled on"),
}  # fmt: skip
SYNONYMS = {
    "number": ["ordernumber", "orderno", "orderid", "order", "number", "no", "订单号",
               "订单编号", "单号", "订单号码", "销售单号"],
    "ordered_at": ["orderedat", "orderdate", "date", "orderedon", "下单日期", "订单日期",
                   "下单时间", "日期", "成交日期"],
    "account_external_id": ["accountid", "customerid", "accountexternalid", "customerno",
                            "客户编号", "客户代码", "客户id", "客户号"],
    "account_name": ["account", "accountname", "customer", "customername", "company",
                     "客户名称", "客户", "公司名称", "客户公司"],
    "status": ["status", "orderstatus", "状态", "订单状态"],
    "currency": ["currency", "币种", "货币", "币别"],
    "product_name": ["product", "productname", "item", "itemname", "产品", "产品名称",
                     "商品", "商品名称", "品名"],
    "sku": ["sku", "productcode", "itemcode", "货号", "产品编号", "产品编码", "物料编码"],
    "quantity": ["quantity", "qty", "数量"],
    "unit_price": ["unitprice", "price", "单价", "价格"],
    "discount_percent": ["discount", "discountpercent", "折扣", "折扣率"],
    "amount": ["amount", "total", "linetotal", "ordertotal", "金额", "总金额", "小计",
               "订单金额"],
    "fulfilled_on": ["fulfilledon", "fulfilledat", "shippedon", "deliveredon", "完成日期",
                     "发货日期", "交付日期"],
}  # fmt: skip
STATUSES = {
    **{s.value: s.value for s in Order.Status},
    "草稿": "draft", "已确认": "confirmed", "确认": "confirmed", "已下单": "confirmed",
    "open": "confirmed", "已完成": "fulfilled", "完成": "fulfilled", "已发货": "fulfilled",
    "已交付": "fulfilled", "shipped": "fulfilled", "delivered": "fulfilled",
    "completed": "fulfilled", "已取消": "cancelled", "取消": "cancelled",
    "canceled": "cancelled", "已退货": "returned", "退货": "returned",
}  # fmt: skip
_MONEY_MARKS = re.compile(r"[,，¥￥$\s]|^(?:CNY|RMB|USD|EUR)")
_ZHE = re.compile(r"^(\d{1,2}(?:\.\d+)?)折$")  # 9折 = 10 % off, 85折 = 15 % off


def check_mapping(seen: set[str]) -> list[tuple[str, str]]:
    errors = []
    if "number" not in seen:
        errors.append(("mapping", _("map a column to the order number")))
    if not {"account_external_id", "account_name"} & seen:
        errors.append(("mapping", _("map a column to the account's external id or name")))
    return errors


@dataclass
class OrderRow(mappings.MappedRow):
    """A row as an order (and, with a product, one of its lines)."""

    number: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    account: tuple[str, str] = ("", "")  # ("external_id" or "name", value)
    line: orders.LineInput | None = None
    amount: Decimal | None = None


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(_MONEY_MARKS.sub("", text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _discount(text: str) -> Decimal | None:
    zhe = _ZHE.match(text)
    if zhe:
        digits = zhe.group(1)
        off = Decimal(digits) * (10 if len(digits.split(".")[0]) == 1 else 1)
        return Decimal(100) - off
    return _number(text.rstrip("%％"))


def _date(text: str, ctx: engine.Context) -> Any:
    day = engine.parse_date(text)
    if day is None:
        moment = interactions.parse_datetime(text, ctx.zone)
        day = moment.astimezone(ctx.zone).date() if moment is not None else None
    return day


def prepare(row: dict[str, str], ctx: engine.Context) -> OrderRow:
    """Mapped and checked cells of a row; every problem is reported, not only the first."""
    result = OrderRow()
    values = result.read(row, ctx)
    error = result.error

    result.number = values.get("number", "")
    if not result.number:
        error("number", _("give the order number"))
    elif len(result.number) > 100:
        error("number", _("at most 100 characters"))
    if values.get("account_external_id"):
        result.account = ("external_id", values["account_external_id"])
    elif values.get("account_name"):
        result.account = ("name", values["account_name"])
    else:
        name = "account_external_id" if "account_external_id" in result.columns else "account_name"
        error(name, _("say whose order it is: the account's external id or name"))
    fields = result.fields
    for name in ("ordered_at", "fulfilled_on"):
        text = values.get(name, "")
        day = _date(text, ctx) if text else None
        if text and day is None:
            error(name, _("not a date (write it as 2024-03-15)"))
        elif day is not None and day > timezone.localdate():
            error(name, _("must not be in the future"))
        fields[name] = day
    if not values.get("ordered_at"):
        error("ordered_at", _("say when it was ordered"))
    status = values.get("status", "")
    fields["status"] = STATUSES.get(status.casefold()) if status else "confirmed"
    if fields["status"] is None:
        error("status", _("one of %(statuses)s (or 已确认, 已完成, 已取消, 已退货)")
              % {"statuses": ", ".join(Order.Status.values)})  # fmt: skip
    currency = values.get("currency", "").upper().replace("RMB", "CNY").replace("人民币", "CNY")
    if currency and not orders.CURRENCY.match(currency):
        error("currency", _("must be a three-letter ISO 4217 code, e.g. CNY or USD"))
    fields["currency"] = currency or None
    numbers: dict[str, Decimal | None] = {}
    for name in ("quantity", "unit_price", "amount"):
        if values.get(name):
            numbers[name] = _number(values[name])
            if numbers[name] is None:
                error(name, _("must be a number"))
    if values.get("discount_percent"):
        numbers["discount_percent"] = _discount(values["discount_percent"])
        if numbers["discount_percent"] is None:
            error("discount_percent", _("write a percentage (10 or 10%) or 9折"))
    if values.get("product_name") or values.get("sku"):
        for name in ("quantity", "unit_price"):
            if not values.get(name):
                error(name, _("a line needs its quantity and unit price"))
        if any(numbers.get(n) is None for n in ("quantity", "unit_price")):
            return result
        line = orders.LineInput(
            product_name=values.get("product_name") or values.get("sku", ""),
            sku=values.get("sku", ""), quantity=numbers["quantity"],
            unit_price=numbers["unit_price"],
            discount_percent=numbers.get("discount_percent") or 0,
        )  # fmt: skip
        problems: list[tuple[str, str]] = []
        cleaned = orders.clean_lines([line], problems)
        for path, message in problems:
            error(path.split(".")[-1], message)
        given = numbers.get("amount")
        if cleaned and given is not None and given != cleaned[0]["amount"]:
            error("amount", _("is not quantity × unit price less the discount (%(amount)s)")
                  % {"amount": cleaned[0]["amount"]})  # fmt: skip
        result.line = line
    elif values.get("amount"):
        result.amount = numbers.get("amount")
        if result.amount is not None and result.amount < 0:
            error("amount", _("must not be negative"))
    else:
        name = "product_name" if "product_name" in result.columns else "amount"
        error(name, _("give a product with its quantity and unit price, or the order's amount"))
    return result


def _accounts(items: list[OrderRow], ctx: engine.Context) -> dict[tuple[str, str], Account]:
    """The batch's accounts, by external id or name, among those the importer can see
    (the oldest when several share a name)."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        wanted.setdefault(item.account[0], set()).add(item.account[1])
    found: dict[tuple[str, str], Account] = {}
    visible = Account.objects.visible_to(ctx.membership, "view")
    if wanted.get("external_id"):
        for account in visible.filter(external_id__in=wanted["external_id"]).exclude(
            external_id=""
        ):
            found[("external_id", account.external_id)] = account
    if wanted.get("name"):
        for account in visible.filter(name__in=wanted["name"]).order_by("-pk"):
            found[("name", account.name)] = account
    return found


def _touched(ctx: engine.Context) -> dict[str, tuple[int, str]]:
    """Order number -> (order id, "created" or "updated") of the orders this job wrote,
    read once from its row records (a resumed job continues the orders it began)."""
    state = ctx.state
    if "orders" not in state:
        rows = ImportRow.objects.filter(job=ctx.job, outcome__in=("created", "updated"))
        outcome_of = dict(rows.values_list("record_id", "outcome").order_by("line"))
        numbers = Order.objects.for_workspace(ctx.job.workspace_id).filter(pk__in=outcome_of)
        state["orders"] = {
            number: (pk, outcome_of[pk]) for pk, number in numbers.values_list("pk", "number")
        }
    return state["orders"]


def _snapshot(order: Order) -> dict[str, Any]:
    """What an update replaces, for undo."""
    return {
        "order": {
            "account_id": order.account_id, "status": order.status,
            "ordered_at": order.ordered_at.isoformat(), "currency": order.currency,
            "amount": str(order.amount), "source": order.source,
            "fulfilled_on": order.fulfilled_on.isoformat() if order.fulfilled_on else None,
        },
        "lines": [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in line.items()}
            for line in orders.stored_lines(order)
        ],
    }  # fmt: skip


def plan_batch(chunk: list, ctx: engine.Context, by: User, inflight: dict) -> engine.Plan:
    """A batch of order rows: checked, their accounts looked up in a query or two, grouped
    by order number; the orders are written when the batch is (``write``)."""
    outcomes, prepared = engine.sort_rows(chunk, ctx, prepare)
    accounts = _accounts(list(prepared.values()), ctx)
    groups: dict[str, list[tuple[int, OrderRow]]] = {}
    for line, item in prepared.items():
        if item.account not in accounts:
            kind, value = item.account
            name = "account_external_id" if kind == "external_id" else "account_name"
            outcomes[line] = engine.Outcome("error", errors=[{
                "column": item.columns.get(name, name), "value": value,
                "message": _("no account you can see has %(what)s %(value)r")
                % {"what": _("external id") if kind == "external_id" else _("the name"),
                   "value": value},
            }])  # fmt: skip
            continue
        groups.setdefault(item.number, []).append((line, item))
    policy = ctx.job.policy

    def write() -> None:
        touched = _touched(ctx)
        for number, items in groups.items():
            try:
                with transaction.atomic():
                    results = _write_order(number, items, ctx, by, policy, touched, accounts)
            except GuanxiError as exc:
                errors = items[0][1].service_errors(
                    exc, {"account_id": "account_external_id", "lines": "product_name"}
                )
                results = {line: engine.Outcome("error", errors=errors) for line, _i in items}
            outcomes.update(results)

    return engine.Plan(chunk=chunk, outcomes=outcomes, write=write if groups else None)


def _write_order(
    number: str, items: list[tuple[int, OrderRow]], ctx: engine.Context, by: User,
    policy: str, touched: dict[str, tuple[int, str]],
    accounts: dict[tuple[str, str], Account],
) -> dict[int, engine.Outcome]:  # fmt: skip
    head = items[0][1]
    lines = [item.line for _l, item in items if item.line is not None]
    amounts = [item.amount for _l, item in items if item.amount is not None]
    fields = dict(head.fields)
    account = accounts[head.account]
    earlier = touched.get(number)
    existing = orders.find_order(ctx.job.workspace_id, number)
    before: dict[str, Any] = {}
    if earlier is not None and existing is not None and existing.pk == earlier[0]:
        # the rest of an order this job began in an earlier batch
        stored = [orders.LineInput(**{k: line[k] for k in ("product_name", "sku", "quantity",
                                      "unit_price", "discount_percent")})
                  for line in orders.stored_lines(existing)]  # fmt: skip
        lines = stored + lines if lines else None
        outcome = earlier[1]
    elif existing is not None:
        if policy in (ImportJob.Policy.SKIP, ImportJob.Policy.REVIEW):
            return {line: engine.Outcome("skipped", matched_id=existing.pk) for line, _i in items}
        if not can(ctx.membership, "change", existing):
            raise ValidationFailed([("number", _("an order with this number exists that your "
                                                 "role may not change"))])  # fmt: skip
        before = _snapshot(existing)
        outcome = "updated"
    else:
        outcome = "created"
    result = orders.upsert_order(
        workspace=ctx.workspace, by=by, number=number, account=account,
        ordered_at=fields["ordered_at"], status=fields["status"], currency=fields["currency"],
        fulfilled_on=fields["fulfilled_on"], source="import", lines=lines or None,
        amount=None if lines else (amounts[-1] if amounts else None), existing=existing,
    )  # fmt: skip
    if outcome == "updated" and not result.changed and earlier is None:
        return {line: engine.Outcome("skipped", matched_id=result.order.pk) for line, _i in items}
    touched[number] = (result.order.pk, outcome)
    pk = result.order.pk
    matched = existing.pk if existing is not None and earlier is None else None
    results = {}
    for index, (line, _item) in enumerate(items):
        results[line] = engine.Outcome(
            outcome, record_id=pk, matched_id=matched, before=before if index == 0 else {}
        )
    return results


def undo(job: ImportJob, by: User) -> dict[str, int]:
    """Remove the orders the import created; put back the ones it updated — their fields
    and lines as they were before the import."""
    rows = ImportRow.objects.filter(job=job)
    created = set(rows.filter(outcome="created").values_list("record_id", flat=True))
    now = timezone.now()
    for record in Order.objects.for_workspace(job.workspace_id).filter(pk__in=created):
        record.deleted_at, record.deleted_by = now, by
        record.save(update_fields=["deleted_at", "deleted_by"])
    restored = 0
    for row in rows.filter(outcome="updated").exclude(before={}).order_by("line").iterator():
        order = Order.objects.for_workspace(job.workspace_id).filter(pk=row.record_id).first()
        if order is None or "order" not in row.before:
            continue
        fields = row.before["order"]
        for name, value in fields.items():
            setattr(order, name, value)
        order.version += 1
        order.updated_by = by
        order.save()
        orders.replace_lines(order, [
            {**line, **{k: Decimal(line[k]) for k in ("quantity", "unit_price",
                                                     "discount_percent", "amount")}}
            for line in row.before["lines"]
        ])  # fmt: skip
        restored += 1
    return {"removed": len(created), "restored": restored}


def register() -> None:
    mappings.FIELDS["orders"] = FIELDS
    mappings.REQUIRED["orders"] = (("number",), ("account_external_id", "account_name"))
    mappings.SYNONYMS_BY_KIND["orders"] = SYNONYMS
    mappings.CHECKS["orders"] = check_mapping
    engine.register_kind("orders", engine.ImportKind(model=Order, plan_batch=plan_batch, undo=undo))
