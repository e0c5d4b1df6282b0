"""One search box over accounts and contacts: names in Han characters, pinyin (full or
initials), traditional/simplified, Latin names in any order, company names, phone numbers in
any format or by their last four or more digits, and e-mail addresses. Ranked; visibility
applied before anything is matched.

Names match on term prefixes of the stored ``search_document`` (see ``normalize``), so "zw"
finds 张伟 but not "Schwarz". On PostgreSQL a trigram index serves these LIKE patterns; on
SQLite an FTS5 index (``fts``) finds the candidates first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from guanxi.customers import fts, normalize
from guanxi.customers.models import Account, Contact, ContactPoint, Customer
from guanxi.platform.context import current_workspace

MIN_PHONE_DIGITS = 4
# what a WeChat/QQ/LINE id can look like: one ASCII word
MESSAGING_ID = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
CANDIDATES = 200


@dataclass(frozen=True)
class SearchResult:
    type: str
    id: str
    display_name: str
    score: float
    matched: str  # "name", "phone", "email", "messaging"


def _name_score(document: str, query: str) -> float:
    terms = document.split(" ")
    if query in terms or document == query or f" {query} " in f" {document} ":
        return 100.0
    if document.startswith(query) or f" {query}" in f" {document}":
        # a longer query covering more of a term is a better match
        return 60.0 + 30.0 * len(query) / max(len(query), *(len(t) for t in terms))
    return 30.0 + 20.0 * len(query) / max(len(query), *(len(t) for t in terms))


# Han text has no spaces between words (上海远景贸易): any part of it may be what was typed.
# Latin queries match at term starts, or anywhere once long enough to be specific.
INFIX_MIN_LATIN = 4


def name_matches(
    model: type[Customer], user: Any, query: str, *, limit: int = CANDIDATES
) -> list[tuple[Customer, float]]:
    condition = Q(search_document__startswith=query) | Q(search_document__contains=f" {query}")
    if normalize.has_han(query) or len(query) >= INFIX_MIN_LATIN:
        condition = Q(search_document__contains=query)
    compact = query.replace(" ", "")
    if compact != query and len(compact) >= INFIX_MIN_LATIN:
        # "shanghai yuanjing" against the joined pinyin "shanghaiyuanjingmaoyi…"
        condition |= Q(search_document__contains=compact)
    rows = model.objects.visible_to(user, "view").filter(condition)
    if connection.vendor == "postgresql" and normalize.has_han(query) and len(compact) < 3:
        # too short for trigrams: the Han phrase index (migration 0007) finds the candidates
        rows = rows.filter(
            RawSQL(
                "to_tsvector('simple', guanxi_han_spaced(search_document))"
                " @@ phraseto_tsquery('simple', %s)",
                [fts.fts_text(compact)],
                output_field=BooleanField(),
            )
        )
    elif connection.vendor == "sqlite":
        # FTS5 finds the candidates; the conditions above keep the same meaning as on
        # PostgreSQL, except that Latin fragments match at the start of a word only.
        expression = fts.match_expression(query, compact)
        if expression is None:
            return []
        table = f"{model._meta.db_table}_fts"
        rows = rows.filter(
            pk__in=RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [expression])
        )
    # No ORDER BY: the first CANDIDATES matches the index yields, ranked below. A query
    # matching more than that ("z", "zw" among a million people) is cut short instead of
    # read in full and sorted, and an ORDER BY sort_key would tempt the planner to walk the
    # sort index through most of the table when the matches sort late.
    rows = rows.order_by()
    rows = rows.only("public_id", "search_document", "sort_key", *_display_fields(model))
    return [
        (
            row,
            max(_name_score(row.search_document, query), _name_score(row.search_document, compact)),
        )
        for row in rows[:limit]
    ]


def _display_fields(model: type[Customer]) -> tuple[str, ...]:
    return ("display_name",) if model is Contact else ("name",)


def _prefix(field: str, prefix: str) -> Q:
    """Values starting with ``prefix``, in a form the database's index serves."""
    if connection.vendor == "sqlite":
        # SQLite's LIKE ignores case and so no index; BINARY collation is code-point order,
        # so this range is exactly the values with the prefix
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
    return Q(**{f"{field}__startswith": prefix})


def _point_matches(user: Any, raw: str) -> list[tuple[Customer, float, str]]:
    """Customers holding a matching phone, e-mail or messaging id, visible to the user."""
    text = raw.strip()
    digits = re.sub(r"\D", "", normalize.normalize_query(text))
    points = ContactPoint.objects.none()
    found: list[tuple[Customer, float, str]] = []
    if "@" in text:
        key = text.casefold()
        points = ContactPoint.objects.filter(_prefix("match_key", key), kind="email")
        exact = {key}
        kind = "email"
    elif len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(re.sub(r"[\s()+\-.]", "", text)):
        # Only digits (and phone punctuation) typed: a number, whole or its last digits.
        suffix = _national_digits(text) or digits
        points = ContactPoint.objects.filter(
            _prefix("digits_reversed", suffix[::-1]), kind__in=("phone", "whatsapp", "fax")
        )
        exact = set()
        kind = "phone"
    elif MESSAGING_ID.match(text):
        kinds = ("wechat", "qq", "line")
        points = ContactPoint.objects.filter(kind__in=kinds, match_key=text.casefold())
        exact = {text.casefold()}
        kind = "messaging"
    else:
        return found  # Han text or several words: a name, not a contact point
    points = points.select_related("contact", "account")[:CANDIDATES]
    contacts_visible = Contact.objects.visible_to(user, "view")
    accounts_visible = Account.objects.visible_to(user, "view")
    holders = {}
    for point in points:
        holder = point.contact or point.account
        score = 95.0 if point.match_key in exact or kind == "messaging" else 75.0
        if kind == "phone" and point.digits_reversed == suffix[::-1]:
            score = 95.0
        holders.setdefault((type(holder), holder.pk), (holder, score, kind))
    visible_contacts = set(
        contacts_visible.filter(pk__in=[pk for (m, pk) in holders if m is Contact]).values_list(
            "pk", flat=True
        )
    )
    visible_accounts = set(
        accounts_visible.filter(pk__in=[pk for (m, pk) in holders if m is Account]).values_list(
            "pk", flat=True
        )
    )
    for (model, pk), value in holders.items():
        if pk in (visible_contacts if model is Contact else visible_accounts):
            found.append(value)
    return found


def _national_digits(text: str) -> str:
    """The national number of a whole phone number typed in any format; "" for fragments."""
    workspace = current_workspace()
    try:
        phone = normalize.normalize_phone(text, region=workspace.region if workspace else "CN")
    except normalize.InvalidContactValue:
        return ""
    return phone.national_digits


def search(*, user: Any, q: str, limit: int = 20) -> list[SearchResult]:
    query = normalize.normalize_query(q)
    if not query:
        return []
    best: dict[tuple[str, str], SearchResult] = {}

    def offer(customer: Customer, score: float, matched: str) -> None:
        kind = "contact" if isinstance(customer, Contact) else "account"
        key = (kind, customer.public_id)
        if key not in best or best[key].score < score:
            best[key] = SearchResult(kind, customer.public_id, str(customer), score, matched)

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # How selective a pattern is decides the plan ('%王芳%' vs 'z%'); a plan cached
            # for one would be ruinous for the other.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        for model in (Contact, Account):
            for customer, score in name_matches(model, user, query):
                offer(customer, score, "name")
        for customer, score, matched in _point_matches(user, q):
            offer(customer, score, matched)
    ranked = sorted(best.values(), key=lambda r: (-r.score, r.display_name.casefold(), r.id))
    return ranked[:limit]
