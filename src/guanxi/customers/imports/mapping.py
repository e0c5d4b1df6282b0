"""From a file's columns to the customer master's fields: suggestions that understand English
and Chinese headers (simplified or traditional), and the transforms a column may need."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import opencc
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.errors import GuanxiError, ValidationFailed

if TYPE_CHECKING:
    from guanxi.customers.imports.engine import Context

_to_simplified = opencc.OpenCC("t2s")

# field -> label; one list per kind. Phones and e-mails may come twice (mobile and office).
COMMON_FIELDS = {
    "phone": gettext_lazy("Phone"), "phone2": gettext_lazy("Second phone"),
    "email": gettext_lazy("E-mail"), "email2": gettext_lazy("Second e-mail"),
    "wechat": gettext_lazy("WeChat"), "qq": gettext_lazy("QQ"),
    "street": gettext_lazy("Street"), "district": gettext_lazy("District"),
    "city": gettext_lazy("City"), "region": gettext_lazy("Province/state"),
    "postcode": gettext_lazy("Postcode"), "country": gettext_lazy("Country"),
    "tags": gettext_lazy("Tags"), "owner": gettext_lazy("Owner (username)"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage (key or name)"),
    "value_tier": gettext_lazy("Value tier"), "source": gettext_lazy("Source"),
    "external_id": gettext_lazy("External id"),
}  # fmt: skip
FIELDS = {
    "contacts": {
        "full_name": gettext_lazy("Full name"), "family_name": gettext_lazy("Family name"),
        "given_name": gettext_lazy("Given name"), "gender": gettext_lazy("Gender"),
        "birthday": gettext_lazy("Birthday"), "occupation": gettext_lazy("Occupation"),
        "company": gettext_lazy("Company"), "title": gettext_lazy("Job title"),
        "preferred_language": gettext_lazy("Preferred language"),
        **COMMON_FIELDS,
    },
    "accounts": {
        "name": gettext_lazy("Name"), "legal_name": gettext_lazy("Legal name"),
        "industry": gettext_lazy("Industry"), "size": gettext_lazy("Size"),
        "website": gettext_lazy("Website"),
        **COMMON_FIELDS,
    },
    # a timeline entry, and how to find the contact it concerns
    "interactions": {
        "contact_external_id": gettext_lazy("Contact's external id"),
        "phone": gettext_lazy("Contact's phone"), "email": gettext_lazy("Contact's e-mail"),
        "channel": gettext_lazy("Channel"), "direction": gettext_lazy("Direction"),
        "occurred_at": gettext_lazy("When (date and time)"),
        "subject": gettext_lazy("Subject"), "body": gettext_lazy("Content"),
        "actor": gettext_lazy("By (username)"), "reference": gettext_lazy("Reference (link)"),
        "external_id": gettext_lazy("External id (of the interaction)"),
    },
}  # fmt: skip
REQUIRED = {
    "contacts": (("full_name", "family_name", "given_name"),),
    "accounts": (("name",),),
    "interactions": (("contact_external_id", "phone", "email"),),
}

# normalized header -> field; headers are compared lower-case, simplified, without spaces
# and punctuation ("E-mail Address" -> "emailaddress", "電子郵件" -> "电子邮件")
SYNONYMS = {
    "full_name": ["name", "fullname", "contact", "contactname", "customername", "姓名", "名字",
                  "联系人", "联系人姓名", "客户姓名", "客户名称", "全名", "fn"],
    "family_name": ["familyname", "lastname", "surname", "姓", "姓氏"],
    "given_name": ["givenname", "firstname", "forename", "名"],
    "gender": ["gender", "sex", "性别"],
    "birthday": ["birthday", "birthdate", "dateofbirth", "dob", "bday", "生日", "出生日期"],
    "occupation": ["occupation", "profession", "职业"],
    "company": ["company", "companyname", "organization", "organisation", "org", "account",
                "employer", "公司", "公司名称", "单位", "工作单位", "企业", "企业名称", "客户公司"],
    "title": ["title", "jobtitle", "position", "role", "职位", "职务", "头衔"],
    "preferred_language": ["language", "preferredlanguage", "语言"],
    "name": ["name", "accountname", "company", "companyname", "organization", "organisation",
             "公司", "公司名称", "企业名称", "客户名称", "单位名称", "名称"],
    "legal_name": ["legalname", "registeredname", "工商注册名称", "法定名称", "注册名称"],
    "industry": ["industry", "sector", "行业", "所属行业"],
    "size": ["size", "employees", "companysize", "规模", "公司规模", "人数"],
    "website": ["website", "web", "url", "homepage", "网站", "网址", "主页", "官网"],
    "phone": ["phone", "mobile", "mobilephone", "cell", "cellphone", "tel", "telephone",
              "phonenumber", "手机", "手机号", "手机号码", "移动电话", "电话", "联系电话",
              "电话号码"],
    "phone2": ["officephone", "workphone", "businessphone", "homephone", "phone2", "座机",
               "办公电话", "公司电话", "固定电话", "家庭电话"],
    "email": ["email", "emailaddress", "mail", "邮箱", "电子邮件", "电子邮箱", "邮件",
              "电子邮件地址", "邮箱地址"],
    "email2": ["email2", "otheremail", "workemail", "secondemail"],
    "wechat": ["wechat", "weixin", "wechatid", "微信", "微信号"],
    "qq": ["qq", "qq号", "qq号码"],
    "street": ["street", "address", "streetaddress", "addressline1", "地址", "街道", "详细地址",
               "通讯地址"],
    "district": ["district", "county", "区", "区县", "县区"],
    "city": ["city", "town", "市", "城市", "所在城市"],
    "region": ["province", "state", "region", "省", "省份", "所在省份", "州"],
    "postcode": ["postcode", "postalcode", "zip", "zipcode", "邮编", "邮政编码"],
    "country": ["country", "countryregion", "国家", "国家地区"],
    "tags": ["tags", "tag", "labels", "标签"],
    "owner": ["owner", "accountowner", "contactowner", "salesrep", "负责人", "所有人", "销售",
              "客户经理"],
    "lifecycle_stage": ["stage", "lifecyclestage", "status", "阶段", "客户阶段", "生命周期阶段"],
    "value_tier": ["tier", "valuetier", "level", "grade", "等级", "客户等级", "价值等级"],
    "source": ["source", "leadsource", "来源", "客户来源"],
    "external_id": ["id", "externalid", "customerid", "contactid", "accountid", "编号",
                    "客户编号", "外部编号", "uid"],
}  # fmt: skip
# where a header means something else in a file of interactions
SYNONYMS_BY_KIND = {
    "interactions": {
        "contact_external_id": ["customerid", "contactid", "customerexternalid", "客户编号",
                                "客户id", "联系人编号", "客户代码", "会员编号", "会员号"],
        "external_id": ["id", "externalid", "interactionid", "eventid", "messageid", "callid",
                        "recordid", "编号", "记录编号", "互动编号", "消息id", "通话id", "uid"],
        "channel": ["channel", "medium", "type", "渠道", "沟通渠道", "方式", "联系方式",
                    "类型", "互动类型"],
        "direction": ["direction", "inout", "方向", "呼叫方向", "呼入呼出"],
        "occurred_at": ["time", "date", "datetime", "when", "occurredat", "timestamp",
                        "createdat", "时间", "日期", "发生时间", "沟通时间", "联系时间",
                        "通话时间", "时间日期"],
        "subject": ["subject", "title", "topic", "主题", "标题", "事由"],
        "body": ["body", "content", "summary", "notes", "note", "description", "message",
                 "内容", "摘要", "备注", "记录", "沟通内容", "详情", "消息内容"],
        "actor": ["by", "agent", "user", "owner", "salesrep", "员工", "坐席", "经办人",
                  "负责人", "跟进人", "销售"],
        "reference": ["reference", "link", "url", "recording", "链接", "录音", "附件"],
    },
}  # fmt: skip
# kinds registered by other apps: what a mapping of theirs must contain
CHECKS: dict[str, Callable[[set[str]], list[tuple[str, str]]]] = {}
_PUNCTUATION = re.compile(r"[\s\-_./:：()（）#№*]+")
TRANSFORMS = ("trim", "upper", "lower", "title")


def normalize_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header or "").strip().lower()
    return _PUNCTUATION.sub("", _to_simplified.convert(text))


def suggest(columns: list[str], kind: str, *, custom: dict[str, str] | None = None
            ) -> dict[str, dict[str, str]]:  # fmt: skip
    """A mapping for the file's columns: each recognised column to a field (a field is
    used once; a second phone-like column becomes the second phone). Custom fields are
    recognised by key or label (``cf.<key>``)."""
    fields = FIELDS[kind]
    lookup: dict[str, str] = {}
    for field, names in {**SYNONYMS, **SYNONYMS_BY_KIND.get(kind, {})}.items():
        if field in fields:
            for name in names:
                lookup.setdefault(name, field)
    for key, label in (custom or {}).items():
        lookup.setdefault(normalize_header(key), f"cf.{key}")
        lookup.setdefault(normalize_header(label), f"cf.{key}")
    mapping: dict[str, dict[str, str]] = {}
    used: set[str] = set()
    for column in columns:
        field = lookup.get(normalize_header(column))
        if field in used and f"{field}2" in fields:
            field = f"{field}2"
        if field is None or field in used:
            continue
        used.add(field)
        mapping[column] = {"field": field, "transform": "trim"}
    if "full_name" in used and {"family_name", "given_name"} & used:
        # both a full name and its parts: the parts are more precise
        mapping = {c: m for c, m in mapping.items() if m["field"] != "full_name"}
    return mapping


def check_mapping(mapping: Any, *, columns: list[str], kind: str, custom: set[str]) -> dict:
    """A submitted mapping, validated: known columns, known fields, each field once, the
    fields a record needs."""
    if not isinstance(mapping, dict):
        raise ValidationFailed([("mapping", _("must map column names to fields"))])
    errors: list[tuple[str, str]] = []
    fields = FIELDS[kind]
    cleaned: dict[str, dict[str, str]] = {}
    seen: dict[str, str] = {}
    for column, spec in mapping.items():
        spec = {"field": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict):
            errors.append((f"mapping.{column}", _("must be a field name")))
            continue
        field = spec.get("field") or ""
        transform = spec.get("transform") or "trim"
        if not field:
            continue  # column ignored
        if column not in columns:
            errors.append((f"mapping.{column}", _("the file has no such column")))
        elif field not in fields and field.removeprefix("cf.") not in custom:
            errors.append((f"mapping.{column}", _("unknown field %(field)r") % {"field": field}))
        elif field in seen:
            errors.append((f"mapping.{column}", _("%(field)s is already filled from column %(other)r")
                           % {"field": field, "other": seen[field]}))  # fmt: skip
        elif transform not in (*TRANSFORMS, "split_name"):
            errors.append((f"mapping.{column}", _("unknown transform %(t)r") % {"t": transform}))
        else:
            seen[field] = column
            cleaned[column] = {"field": field, "transform": transform}
    if kind in CHECKS:
        errors += CHECKS[kind](set(seen))
        if errors:
            raise ValidationFailed(errors)
        return cleaned
    if kind == "interactions":
        if not set(REQUIRED[kind][0]) & set(seen):
            errors.append(("mapping", _("map a column to the contact's external id, phone or "
                                        "e-mail: it says whose timeline a row goes to")))  # fmt: skip
        if errors:
            raise ValidationFailed(errors)
        return cleaned
    identifying = set(REQUIRED[kind][0]) | {"phone", "email", "external_id", "wechat", "qq"}
    if not identifying & set(seen):
        names = " / ".join(str(fields[f]) for f in REQUIRED[kind][0])
        errors.append(("mapping", _("map a column to %(fields)s (or to a phone, e-mail or "
                                    "external id to update existing records)") % {"fields": names}))  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def transform(value: str, how: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip() if how != "keep" else value
    if how == "upper":
        return value.upper()
    if how == "lower":
        return value.lower()
    if how == "title":
        return value.title()
    return value


@dataclass
class MappedRow:
    """A row of a registered kind as its mapped fields: ``values`` (field -> text; empty
    cells left out, the job's per-field defaults filling them), ``columns`` (field -> the
    column it came from, for messages) and the ``errors`` found, each naming its column."""

    errors: list[dict[str, str]] = dataclasses.field(default_factory=list)
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    values: dict[str, str] = dataclasses.field(default_factory=dict)

    def read(self, row: dict[str, str], ctx: Context) -> dict[str, str]:
        for column, spec in ctx.job.mapping.items():
            text = transform(row.get(column, "") or "", spec.get("transform", "trim"))
            self.columns[spec["field"]] = column
            if text:
                self.values[spec["field"]] = text
        for name, value in (ctx.job.defaults or {}).items():
            if value and not self.values.get(name):
                self.values[name] = str(value)
                self.columns.setdefault(name, name)
        return self.values

    def error(self, name: str, message: Any) -> None:
        self.errors.append({"column": self.columns.get(name, name),
                            "value": self.values.get(name, ""), "message": str(message)})  # fmt: skip

    def service_errors(self, exc: GuanxiError, renames: dict[str, str] | None = None
                       ) -> list[dict[str, str]]:  # fmt: skip
        """A service's errors (``lines.0.quantity``, ``phone``) on this row's columns."""
        pairs = exc.errors if isinstance(exc, ValidationFailed) else [("", str(exc))]
        result = []
        for path, message in pairs:
            if path.startswith("custom_fields."):
                name = f"cf.{path.split('.', 1)[1]}"
            else:
                name = path.split(".")[-1]
                name = (renames or {}).get(name, name)
            result.append({"column": self.columns.get(name, name),
                           "value": self.values.get(name, ""), "message": str(message)})  # fmt: skip
        return result
