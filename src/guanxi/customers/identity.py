"""Identity resolution on entry: who might this new contact already be?

Candidates come from three places — the same normalized phone, e-mail or messaging id (an
identifier: near-certain), the same name in any of its written forms (Han, pinyin,
traditional or simplified, either order: the search index holds them all), and the people
of a company with the same name (which also catches typos in a name) — and each is scored
on the evidence, with the reasons a person can check ("same mobile"; "name 张伟 ≈ Zhang
Wei"; "same company"). Only customers the user may see are returned; the others are
counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from guanxi.customers import normalize
from guanxi.customers.models import Account, AccountContact, Contact, ContactPoint
from guanxi.customers.search import name_matches

CANDIDATES = 50
MIN_SCORE = 0.5
IDENTIFIER_SCORES = {"phone": 0.97, "email": 0.95, "wechat": 0.95, "qq": 0.93}


@dataclass
class Candidate:
    contact: Contact
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    identifier: str = ""  # the kind of identifier it shares, if any


def _forms(name: str) -> set[tuple[str, str]]:
    """A name as letters to compare, in both orders: (pinyin or Latin letters without
    spaces, initials of its syllables or words)."""
    text = normalize.normalize_query(name)
    if not text:
        return set()
    if normalize.has_han(text):
        terms = normalize.name_search_terms(text, personal=True)
        # the terms hold "zhang wei" and "wei zhang" for 张伟 (syllables, either order)
        spaced = [t for t in terms if t.isascii() and " " in t]
        words_list = [t.split() for t in spaced] or [[t] for t in terms if t.isascii()]
    else:
        words = text.split()
        words_list = [words, list(reversed(words))]
    return {("".join(words), "".join(w[0] for w in words)) for words in words_list if words}


def _name_queries(name: str) -> list[str]:
    """At most two searches find a name in every script: as typed (a Latin query also finds
    Han records by their pinyin) and, for Han input, its spaced pinyin (for records written
    in Latin letters)."""
    text = normalize.normalize_query(name)
    queries = [text] if text else []
    if normalize.has_han(text):
        spaced = [t for t in normalize.name_search_terms(text, personal=True)
                  if t.isascii() and " " in t]  # fmt: skip
        queries += spaced[:1]
    return queries


def name_similarity(a: str, b: str) -> float:
    """0–1: how alike two names are across scripts and orders (张伟 vs Zhang Wei vs Wei
    Zhang: 1.0; 张伟 vs 张玮: the same pinyin, 1.0; Zhang Wei vs Zhang Wie: 0.88). Letters
    are compared with the initials of their syllables, so that 张伟 and 王芳 — sharing
    "ang" — stay apart."""
    forms_a, forms_b = _forms(a), _forms(b)
    best = 0.0
    for letters_a, initials_a in forms_a:
        for letters_b, initials_b in forms_b:
            letters = fuzz.ratio(letters_a, letters_b) / 100
            initials = fuzz.ratio(initials_a, initials_b) / 100
            best = max(best, letters * (0.5 + 0.5 * initials))
    return round(best, 3)


def match_contacts(
    *, user: Any, family_name: str = "", given_name: str = "", full_name: str = "",
    phone: str = "", email: str = "", wechat: str = "", company: str = "", city: str = "",
    birthday: date | None = None, exclude_id: int | None = None, limit: int = 10,
) -> tuple[list[Candidate], int]:  # fmt: skip
    """Scored candidates the user may see, best first, and how many others they may not."""
    workspace = user.workspace
    region = workspace.region or "CN"
    name = full_name.strip() or normalize.display_name(family=family_name, given=given_name)
    found: dict[int, Candidate] = {}
    hidden: set[int] = set()
    visible = Contact.objects.visible_to(user, "view")

    def candidate(contact: Contact) -> Candidate:
        return found.setdefault(contact.pk, Candidate(contact))

    # 1. identifiers
    for kind, value in (("phone", phone), ("email", email), ("wechat", wechat)):
        if not value.strip():
            continue
        try:
            normalized, _extra = normalize.normalize_contact_value(
                kind=kind, value=value, region=region
            )
        except normalize.InvalidContactValue:
            continue
        key = normalize.email_match_key(normalized) if kind == "email" else normalized
        points = ContactPoint.objects.for_workspace(workspace).filter(
            kind=kind, match_key=key, contact__isnull=False, contact__deleted_at__isnull=True
        )
        holders = set(points.values_list("contact_id", flat=True)[:CANDIDATES])
        seen = {c.pk: c for c in visible.filter(pk__in=holders)}
        hidden |= holders - set(seen)
        for contact in seen.values():
            entry = candidate(contact)
            entry.identifier = entry.identifier or kind
            entry.reasons.append({"phone": _("same phone %(v)s"), "email": _("same e-mail %(v)s"),
                                  "wechat": _("same WeChat ID %(v)s")}[kind] % {"v": normalized})  # fmt: skip
    # 2. the same name, in any written form — when no identifier answered already: a person
    #    found by their phone needs no search among their namesakes
    identified = any(c.identifier for c in found.values())
    if name and not identified:
        for query in _name_queries(name):
            for contact, _rank in name_matches(Contact, user, query)[:CANDIDATES]:
                candidate(contact)
    # 3. the people of a company of that name (typos in the person's name are caught here);
    #    the company is found through the search index, then its people by their link
    if company.strip() and not identified:
        wanted = normalize.normalize_query(company)
        accounts = [
            account.pk
            for account, _rank in name_matches(Account, user, wanted)[:CANDIDATES]
            if normalize.normalize_query(account.name) == wanted
        ]
        links = AccountContact.objects.for_workspace(workspace).filter(account_id__in=accounts)
        people = visible.filter(pk__in=links.values("contact_id")[:CANDIDATES])
        for contact in people:
            candidate(contact)
    found.pop(exclude_id, None)
    if not found:
        return [], len(hidden)
    companies = _companies(workspace.pk, found)
    cities = _cities(workspace.pk, found)
    for entry in found.values():
        _score(entry, name=name, company=company, city=city, birthday=birthday,
               companies=companies.get(entry.contact.pk, []), cities=cities.get(entry.contact.pk, []))  # fmt: skip
    ranked = sorted(
        (c for c in found.values() if c.score >= MIN_SCORE),
        key=lambda c: (-c.score, c.contact.display_name, c.contact.pk),
    )
    return ranked[:limit], len(hidden - set(found))


def _companies(workspace_id: int, found: dict[int, Candidate]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    links = (
        AccountContact.objects.for_workspace(workspace_id)
        .filter(
            contact_id__in=list(found), deleted_at__isnull=True, account__deleted_at__isnull=True
        )
        .values_list("contact_id", "account__name")
    )
    for contact_id, account_name in links:
        result.setdefault(contact_id, []).append(account_name)
    return result


def _cities(workspace_id: int, found: dict[int, Candidate]) -> dict[int, list[str]]:
    from guanxi.customers.models import Address

    result: dict[int, list[str]] = {}
    rows = (
        Address.objects.for_workspace(workspace_id)
        .filter(contact_id__in=list(found))
        .exclude(city="")
    )
    for contact_id, city in rows.values_list("contact_id", "city"):
        result.setdefault(contact_id, []).append(city)
    return result


def _same_text(a: str, b: str) -> bool:
    return normalize.normalize_query(a) == normalize.normalize_query(b)


def _score(entry: Candidate, *, name: str, company: str, city: str, birthday: date | None,
           companies: list[str], cities: list[str]) -> None:  # fmt: skip
    """Evidence to a score: an identifier is near-certain; otherwise the name carries most of
    it and company, city and birthday confirm (or, differing, weaken) it."""
    contact = entry.contact
    similarity = name_similarity(name, contact.display_name) if name else 0.0
    if similarity >= 0.8 and name:
        entry.reasons.append(_("name %(a)s ≈ %(b)s") % {"a": name, "b": contact.display_name})
    same_company = bool(company) and any(_same_text(company, c) for c in companies)
    same_city = bool(city) and any(_same_text(city, c) for c in cities)
    same_birthday = birthday is not None and contact.birthday == birthday
    if same_company:
        entry.reasons.append(_("same company %(c)s") % {"c": company})
    if same_city:
        entry.reasons.append(_("same city %(c)s") % {"c": city})
    if same_birthday:
        entry.reasons.append(_("same birthday"))
    if entry.identifier:
        score = IDENTIFIER_SCORES[entry.identifier]
        score += 0.02 if similarity >= 0.8 else 0.0
        entry.score = round(min(score, 0.99), 3)
        return
    score = 0.6 * similarity
    score += 0.25 if same_company else (-0.1 if company and companies else 0.0)
    score += 0.1 if same_city else (-0.05 if city and cities else 0.0)
    score += 0.15 if same_birthday else (-0.15 if birthday and contact.birthday else 0.0)
    entry.score = round(max(0.0, min(score, 0.95)), 3)


def describe(entry: Candidate) -> dict[str, Any]:
    return {"id": entry.contact.public_id, "display_name": entry.contact.display_name,
            "score": entry.score, "reasons": entry.reasons}  # fmt: skip
