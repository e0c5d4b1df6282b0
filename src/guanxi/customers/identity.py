"""Identity resolution on entry: who might this new contact or account already be?

Candidates come from indexed lookups only, so that the answer takes milliseconds among
millions of customers:

- the same normalized phone, e-mail or messaging id (an identifier: near-certain), or for
  an account the same web domain;
- the same name in any written form: a name's *key* is the letters of its sort key without
  spaces — pinyin for Han, family name first (张伟, 張偉, "Zhang Wei", "Wei Zhang",
  "zhangwei" → ``zhangwei``) — looked up by equality in an index of ``NameKey(sort_key)``
  (``contact_ws_name_key``), in both orders; the namesakes that share the other evidence
  (company, city, birthday) come first;
- a name with a typo: the keys one edit away (a letter left out, added, changed or two
  swapped) — a few hundred index probes, not a scan — among the people who share the
  company, the city or the birthday (or, with no such evidence, when the name as typed has
  no namesake at all);
- the people of a company of that name (which also catches bigger typos in a name there).

Each candidate is scored on the evidence, with the reasons a person can check ("same
mobile"; "name 张伟 ≈ Zhang Wei"; "same company"). Only customers the user may see are
returned; the others are counted.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Exists, ExpressionWrapper, OuterRef, Q, When
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from guanxi.customers import normalize
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    Customer,
    NameKey,
)
from guanxi.customers.search import _prefix, name_matches
from guanxi.platform.queryplans import planned_per_query

CANDIDATES = 50
# namesakes beyond those asked for, read when a common name has hundreds
NAMESAKES = 10
MIN_SCORE = 0.5
IDENTIFIER_SCORES = {"phone": 0.97, "email": 0.95, "wechat": 0.95, "qq": 0.93, "website": 0.93}
# the lowest score a shared identifier gives: ``on_duplicate=merge`` merges only above it
IDENTIFIER_LEVEL = min(IDENTIFIER_SCORES.values())
# typo keys are tried for names of this many letters or more (shorter ones: too many
# neighbours), and up to this many letters (longer ones: too many keys to probe)
TYPO_MIN, TYPO_MAX = 3, 24
_LETTERS = string.ascii_lowercase


@dataclass
class Candidate:
    contact: Contact
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    identifier: str = ""  # the kind of identifier it shares, if any

    @property
    def customer(self) -> Customer:
        return self.contact


@dataclass
class AccountCandidate:
    account: Account
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    identifier: str = ""

    @property
    def customer(self) -> Customer:
        return self.account


# --- name keys --------------------------------------------------------------------------------
def name_key(*, family: str, given: str) -> str:
    """The key ``NameKey(sort_key)`` computes in the database for a stored contact (or, with
    ``given=""``, an account): the sort key's letters without spaces."""
    return normalize.sort_key(family=family, given=given)[:300].replace(" ", "")


@lru_cache(maxsize=20_000)
def name_keys(name: str) -> tuple[str, ...]:
    """The keys a name typed in one field may have once stored: family name first or last,
    given names joined or not (张伟 → zhangwei, weizhang; "Zixuan Jiang" → jiangzixuan)."""
    text = " ".join(name.split())
    if not text:
        return ()
    family, given = normalize.split_full_name(text)
    keys = [name_key(family=family, given=given), name_key(family=given, given=family)]
    if " " in text and not normalize.has_han(text):
        words = text.split(" ")  # "Zhang Wei" typed family name first
        keys.append(name_key(family=words[0], given=" ".join(words[1:])))
    return tuple(dict.fromkeys(k for k in keys if k))


def typo_keys(keys: tuple[str, ...]) -> list[str]:
    """Every key one edit away from one of ``keys`` (Damerau–Levenshtein 1 over a–z)."""
    found: set[str] = set()
    for key in keys:
        if not TYPO_MIN <= len(key) <= TYPO_MAX or not key.isascii():
            continue
        for i in range(len(key) + 1):
            head, tail = key[:i], key[i:]
            if tail:
                found.add(head + tail[1:])
                if len(tail) > 1:
                    found.add(head + tail[1] + tail[0] + tail[2:])
                found.update(head + ch + tail[1:] for ch in _LETTERS if ch != tail[0])
            found.update(head + ch + tail for ch in _LETTERS)
    return sorted(found - set(keys))


def _typos_of(name: str, keys: tuple[str, ...]) -> list[str]:
    """The typo keys worth trying for a name as typed. Han is written family name first, and
    the family name is the part least often mistyped (a handful of common characters): for
    Han input only the given name's pinyin varies — trying every neighbour of "wangwei"
    would also bring all the Tangs, Weis and Zhongs (tangwei, weiyang, zhongwei)."""
    text = " ".join(name.split())
    if not normalize.has_han(text):
        return typo_keys(keys)
    family, _given = normalize.split_full_name(text)
    head = name_key(family=family, given="")
    tail = keys[0][len(head) :] if keys and keys[0].startswith(head) else ""
    return [head + variant for variant in typo_keys((tail,))] if head and tail else []


@lru_cache(maxsize=50_000)
def _forms(name: str) -> frozenset[tuple[str, str]]:
    """A name as letters to compare, in both orders: (pinyin or Latin letters without
    spaces, initials of its syllables or words)."""
    text = normalize.normalize_query(name)
    if not text:
        return frozenset()
    if normalize.has_han(text):
        terms = normalize.name_search_terms(text, personal=True)
        # the terms hold "zhang wei" and "wei zhang" for 张伟 (syllables, either order)
        spaced = [t for t in terms if t.isascii() and " " in t]
        words_list = [t.split() for t in spaced] or [[t] for t in terms if t.isascii()]
    else:
        words = text.split()
        words_list = [words, list(reversed(words))]
    return frozenset(
        ("".join(words), "".join(w[0] for w in words)) for words in words_list if words
    )


@lru_cache(maxsize=100_000)
def name_similarity(a: str, b: str) -> float:
    """0–1: how alike two names are across scripts and orders (张伟 vs Zhang Wei vs Wei
    Zhang: 1.0; 张伟 vs 张玮: the same pinyin, 1.0; Zhang Wei vs Zhang Wie: 0.88). Letters
    are compared with the initials of their syllables, so that 张伟 and 王芳 — sharing
    "ang" — stay apart."""
    return _similarity(_forms(a), _forms(b))


@lru_cache(maxsize=100_000)
def _similarity(forms_a: frozenset[tuple[str, str]], forms_b: frozenset[tuple[str, str]]) -> float:
    best = 0.0
    for letters_a, initials_a in forms_a:
        for letters_b, initials_b in forms_b:
            letters = fuzz.ratio(letters_a, letters_b) / 100
            initials = fuzz.ratio(initials_a, initials_b) / 100
            best = max(best, letters * (0.5 + 0.5 * initials))
    return round(best, 3)


@lru_cache(maxsize=100_000)
def _stored_forms(display_name: str, sort_key: str) -> frozenset[tuple[str, str]]:
    """``_forms`` of a stored contact's name, from the pinyin its sort key holds already
    (family name first, a syllable a character) rather than converting the characters
    again; names that are not all Han characters go the long way."""
    compact = display_name.replace(" ", "")
    syllables = sort_key.split()
    if (
        len(syllables) < 2
        or len(syllables) != len(compact)
        or not all(map(normalize._is_han, compact))
    ):
        return _forms(display_name)
    forms = {("".join(syllables), "".join(s[0] for s in syllables))}
    if len(compact) <= 4:  # as the search terms have it: given name joined, then family
        head = normalize.to_simplified(compact[:2], by_character=True)
        family = 2 if head in normalize.COMPOUND_SURNAMES and len(compact) > 2 else 1
        words = ["".join(syllables[family:]), "".join(syllables[:family])]
        forms.add(("".join(words), "".join(w[0] for w in words)))
    return frozenset(forms)


def _contact_similarity(name: str, contact: Contact) -> float:
    return _similarity(_forms(name), _stored_forms(contact.display_name, contact.sort_key))


def _city_forms(city: str) -> list[str]:
    """How a city may be stored: as typed, simplified or traditional, with or without 市."""
    text = " ".join(city.split())
    if not text:
        return []
    forms = {text, normalize.normalize_query(text)}
    if normalize.has_han(text):
        base = text.removesuffix("市")
        for form in (base, base + "市"):
            forms |= {form, normalize.to_simplified(form, by_character=True),
                      normalize.to_traditional(form, by_character=True)}  # fmt: skip
    else:
        forms |= {text.title(), text.casefold()}
    return sorted(forms)


@lru_cache(maxsize=20_000)
def _normal(text: str) -> str:
    return normalize.normalize_query(text)


def _same_city(a: str, b: str) -> bool:
    return _normal(a.removesuffix("市")) == _normal(b.removesuffix("市"))


# --- accounts by name, shared by contact and account matching --------------------------------
def _people_of_company(
    workspace_id: int, company_keys: tuple[str, ...], name: str, keys: tuple[str, ...]
) -> Any:  # fmt: skip
    """Ids (a subquery) of up to CANDIDATES people at the (live) accounts named by
    ``company_keys``, those most like ``name`` (whose ``keys`` are given) first: the same
    name key, then a key one letter away, then a name that begins alike (the family name of
    a Han name, a word of another) — one range of the links' name-key index however many
    accounts share the company's name (``guanxi.customers.linkkeys``), ranked from the
    index alone. Visibility is the caller's: a person's, not their account's, decides
    whether they are a candidate."""
    links = AccountContact.objects.for_workspace(workspace_id).filter(account_key__in=company_keys)
    ranks = []
    if keys:
        ranks.append(When(contact_key__in=keys, then=0))
        typos = _typos_of(name, keys)
        if typos:  # in the ordering only: no estimate of hundreds of keys to plan for
            ranks.append(When(contact_key__any=typos, then=1))
    ranks += [When(contact_key__startswith=word, then=2) for word in _word_keys(name)]
    if ranks:
        links = links.alias(rank=Case(*ranks, default=3)).order_by("rank")
    else:
        links = links.order_by()
    return links.values("contact_id")[:CANDIDATES]


def _word_keys(name: str) -> tuple[str, ...]:
    """The parts of a name a person at the company who is meant would share even if the rest
    is mistyped beyond one letter: the family name of a Han name (丁天玮 → "ding", for
    丁天佑), else each word of two letters or more ("Thomas Browx" → thomas, browx)."""
    text = " ".join(name.split())
    if normalize.has_han(text):
        family, _given = normalize.split_full_name(text)
        words = [family] if family else []
    else:
        words = text.split(" ")
    keys = (name_key(family=word, given="") for word in words)
    return tuple(dict.fromkeys(k for k in keys if len(k) >= 2))


def _accounts_legally_named(user: Any, name: str) -> list[int]:
    """Accounts whose name or legal name, normalized, is ``name``, through the search index
    (the legal name has no key of its own)."""
    wanted = _normal(name)
    similar = [
        account.pk for account, _rank in name_matches(Account, user, wanted, limit=CANDIDATES)
    ]
    names = (
        Account.objects.visible_to(user, "view")
        .filter(pk__in=similar)
        .values_list("pk", "name", "legal_name")
    )
    return [pk for pk, *texts in names if wanted in map(_normal, texts)]


@lru_cache(maxsize=20_000)
def name_keys_of_company(name: str) -> tuple[str, ...]:
    key = name_key(family=" ".join(name.split()), given="")
    return (key,) if key else ()


# --- contacts ---------------------------------------------------------------------------------
@planned_per_query
def match_contacts(
    *, user: Any, family_name: str = "", given_name: str = "", full_name: str = "",
    phone: str = "", email: str = "", wechat: str = "", company: str = "", city: str = "",
    birthday: date | None = None, exclude_id: int | None = None, limit: int = 10,
    account_ids: list[int] | None = None,
) -> tuple[list[Candidate], int]:  # fmt: skip
    """Scored candidates the user may see, best first, and how many others they may not.
    ``account_ids`` name accounts the person works at when they are known already (the
    create form's account), in addition to or instead of ``company``."""
    workspace = user.workspace
    region = workspace.region or "CN"
    name = full_name.strip() or normalize.display_name(family=family_name, given=given_name)
    found: dict[int, Candidate] = {}
    hidden: set[int] = set()
    cities = _city_forms(city)
    by_company = bool(account_ids or company.strip())
    # the company: accounts named so (by the name keys the links carry), or the accounts
    # given; the legal name is looked up only if the name then brings nobody
    company_keys = name_keys_of_company(company) if company.strip() and not account_ids else ()
    accounts: list[int] = list(account_ids or [])

    def rows_with_evidence() -> Any:
        # every candidate row comes with its evidence (accounts given, city), so that
        # scoring needs no further query
        return _with_evidence(
            Contact.objects.visible_to(user, "view").only(
                "public_id", "display_name", "sort_key", "birthday"
            ),
            workspace.pk, accounts=accounts, cities=cities, birthday=birthday,
        )  # fmt: skip

    visible = rows_with_evidence()

    def candidate(contact: Contact) -> Candidate:
        return found.setdefault(contact.pk, Candidate(contact))

    # 1. identifiers
    for kind, value in (("phone", phone), ("email", email), ("wechat", wechat)):
        normalized, key = _identifier(kind, value, region)
        if not key:
            continue
        points = ContactPoint.objects.for_workspace(workspace).filter(
            kind=kind, match_key=key, contact__isnull=False, contact__deleted_at__isnull=True
        )
        holders = set(points.values_list("contact_id", flat=True)[:CANDIDATES])
        seen = {c.pk: c for c in visible.filter(pk__in=holders)}
        hidden |= holders - set(seen)
        for contact in seen.values():
            entry = candidate(contact)
            entry.identifier = entry.identifier or kind
            entry.reasons.append(_identifier_reason(kind, normalized))
    # 2. by name and the other evidence — when no identifier answered already: a person found
    #    by their phone needs no search among their namesakes
    if not any(c.identifier for c in found.values()):
        # the people of the company first (a name mistyped beyond one edit is caught here)
        keys = name_keys(name) if name else ()
        at_company: list[Contact] = []
        unread = False  # people of the company the name may be among, not read
        if company_keys:
            # the company's people most like the name (namesakes, typos, the same family
            # name) among its first CANDIDATES: nobody else at it is read
            ids = _people_of_company(workspace.pk, company_keys, name, keys)
            at_company = list(visible.filter(pk__in=ids))
            if not at_company:
                # nobody at an account of that name: perhaps it is a legal name
                accounts, company_keys = _accounts_legally_named(user, company), ()
                visible = rows_with_evidence()
        if accounts and not at_company:
            at_company = _people_at(workspace.pk, visible, accounts)
            if len(at_company) >= CANDIDATES and keys:
                # more people at the accounts than were read: the namesakes who work at one
                # (and below, the typos among the people who do)
                read = {c.pk for c in at_company}
                at_company += [c for c in _named_at(visible, keys, limit) if c.pk not in read]
                unread = not any(_contact_similarity(name, c) >= 0.8 for c in at_company)
        for contact in at_company:
            contact.at_company = True  # by how they were found
            candidate(contact)
        # the name at the company answers: namesakes elsewhere, or typos, would only be
        # weaker candidates (a different company lowers their score)
        if name and any(_contact_similarity(name, c) >= 0.8 for c in at_company):
            keys = ()
        rows = visible.alias(key=NameKey("sort_key"))
        # the company's people are all read already; of the namesakes, those who share the
        # city or birthday come first (which reads the whole block of namesakes: hundreds
        # at most for the commonest names among a million people)
        strongest_first = [f"-{e}" for e in ("in_city", "born_then") if e in rows.query.annotations]
        namesakes = []
        if keys:
            # the namesakes who share the evidence first; beyond those, a few to show
            same_name = rows.filter(key__in=keys).order_by(*strongest_first)
            namesakes = list(same_name[: limit + NAMESAKES])
        # a typo: among the people of the company (when it has more than were read), or who
        # share the city or birthday, or anyone when the name as typed has no namesake and
        # nothing else narrows it
        narrowing = Q()
        if cities:
            narrowing |= Q(in_city=True)
        if birthday is not None:
            narrowing |= Q(birthday=birthday)
        unknown = not namesakes and not by_company
        # the typo keys someone has (one probe of the name index each): a short list for
        # the queries below to be planned for
        typos = _typos_of(name, keys) if keys and (unread or narrowing or unknown) else []
        typos = _existing_keys(workspace.pk, typos)
        if unread and typos:
            namesakes += _named_at(visible, typos, limit + NAMESAKES)
        if not (narrowing or unknown):
            typos = []
        if typos:
            # in key order: the index's order, so that PostgreSQL probes it key by key
            # rather than expecting hundreds of keys to match a tenth of the table
            near = rows.filter(_key_in(Contact, typos), narrowing).order_by("key")
            namesakes += near[: limit + NAMESAKES]
        for contact in namesakes:
            candidate(contact)
    found.pop(exclude_id, None)
    if found:
        _evidence_of(workspace.pk, found, company=by_company, account_ids=accounts,
                     company_keys=company_keys, cities=cities)  # fmt: skip
    for entry in found.values():
        _score(entry, name=name, company=company, city=city, birthday=birthday)
    ranked = sorted(
        (c for c in found.values() if c.score >= MIN_SCORE),
        key=lambda c: (-c.score, c.contact.display_name, c.contact.pk),
    )
    return ranked[:limit], len(hidden - set(found))


def _people_at(workspace_id: int, visible: Any, accounts: list[int]) -> list[Contact]:
    """Up to CANDIDATES people of the accounts, in no order (the namesakes who work at one
    are looked up when there are more)."""
    links = AccountContact.objects.for_workspace(workspace_id).filter(account_id__in=accounts)
    return list(visible.filter(pk__in=links.values("contact_id")[:CANDIDATES]))


def _named_at(visible: Any, keys: Any, limit: int) -> list[Contact]:
    """People of the accounts given (``at_company``) with one of the name ``keys``."""
    named = visible.alias(key=NameKey("sort_key")).filter(_key_in(Contact, list(keys)))
    return list(named.filter(at_company=True).order_by()[:limit])


def _with_evidence(
    rows: Any, workspace_id: int, *, accounts: list[int], cities: list[str],
    birthday: date | None,
) -> Any:  # fmt: skip
    """Contact rows with conditions on the evidence asked about, to filter and order by:
    ``at_company`` (works at one of ``accounts``, when given), ``in_city`` (an address in
    the city), ``born_then``.

    Conditions, not selected columns: as a column of a lookup of hundreds of keys, whose
    rows PostgreSQL overestimates, an EXISTS becomes one hash of the whole address table
    (measured 120 ms) instead of a probe per row. The evidence of the candidates found is
    read afterwards (``_evidence_of``)."""
    conditions: dict[str, Any] = {}
    if accounts:
        links = AccountContact.objects.for_workspace(workspace_id).filter(
            contact_id=OuterRef("pk"), account_id__in=accounts, account__deleted_at__isnull=True
        )
        conditions["at_company"] = Exists(links)
    if cities:
        places = Address.objects.for_workspace(workspace_id).filter(contact_id=OuterRef("pk"))
        conditions["in_city"] = Exists(places.filter(city__in=cities))
    if birthday is not None:
        conditions["born_then"] = ExpressionWrapper(Q(birthday=birthday), BooleanField())
    return rows.alias(**conditions)


def _evidence_of(
    workspace_id: int, found: dict[int, Candidate], *, company: bool, account_ids: list[int],
    company_keys: tuple[str, ...], cities: list[str],
) -> None:  # fmt: skip
    """Set ``at_company``/``elsewhere`` and ``in_city``/``other_city`` on the candidates'
    contacts: one short query each, by their keys."""
    unknown = [pk for pk, entry in found.items() if not getattr(entry.contact, "at_company", False)]
    if company and unknown:
        # a deleted account's links have no account key (guanxi.customers.linkkeys)
        links = (
            AccountContact.objects.for_workspace(workspace_id)
            .filter(contact_id__in=unknown)
            .exclude(account_key="")
            .values_list("contact_id", "account_id", "account_key")
        )
        accounts = set(account_ids)
        for contact_id, account_id, account_key in links:
            contact = found[contact_id].contact
            same = account_key in company_keys if company_keys else account_id in accounts
            contact.at_company = getattr(contact, "at_company", False) or same
            contact.elsewhere = getattr(contact, "elsewhere", False) or not same
    if cities:
        wanted = {_normal(c.removesuffix("市")) for c in cities}
        for contact_id, places in _cities(workspace_id, Contact, found).items():
            contact = found[contact_id].contact
            same = [_normal(place.removesuffix("市")) in wanted for place in places]
            contact.in_city, contact.other_city = any(same), not all(same)


def _identifier(kind: str, value: str, region: str) -> tuple[str, str]:
    """(normalized value, match key) of an identifier as typed; ("", "") if it is none."""
    if not value.strip():
        return "", ""
    try:
        normalized, _extra = normalize.normalize_contact_value(
            kind=kind, value=value, region=region
        )
    except normalize.InvalidContactValue:
        return "", ""
    return normalized, normalize.email_match_key(normalized) if kind == "email" else normalized


def _identifier_reason(kind: str, value: str) -> str:
    reasons = {"phone": _("same phone %(v)s"), "email": _("same e-mail %(v)s"),
               "wechat": _("same WeChat ID %(v)s"), "website": _("same website %(v)s")}  # fmt: skip
    return reasons[kind] % {"v": value}


def _existing_keys(workspace_id: int, keys: list[str]) -> list[str]:
    """The keys someone in the workspace has. On PostgreSQL one probe of the index per key,
    stopping at the first row: of hundreds of typo keys a few exist, and a query asking
    for their people with other conditions is best planned knowing which (the planner
    would count each key as an average name and may start from the other end, the
    company's or the city's thousands of people)."""
    if connection.vendor != "postgresql" or not keys:
        return keys
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k FROM unnest(%s::text[]) AS k WHERE EXISTS (SELECT 1 FROM customers_contact c"
            " WHERE REPLACE(c.sort_key, ' ', '') = k AND c.workspace_id = %s"
            " AND c.deleted_at IS NULL)",
            [keys, workspace_id],
        )
        return [row[0] for row in cursor.fetchall()]


def _key_in(model: type[Customer], keys: list[str]) -> Any:
    """``NameKey(sort_key) IN keys``; on PostgreSQL one array parameter rather than hundreds
    of placeholders to build, send and parse."""
    if connection.vendor != "postgresql":
        return Q(key__in=keys)
    table = model._meta.db_table
    return RawSQL(f"""REPLACE("{table}"."sort_key", ' ', '') = ANY(%s)""", [keys],
                  output_field=BooleanField())  # fmt: skip


def _cities(
    workspace_id: int, model: type[Customer], found: dict[int, Any]
) -> dict[int, list[str]]:
    owner = "contact_id" if model is Contact else "account_id"
    result: dict[int, list[str]] = {}
    rows = (
        Address.objects.for_workspace(workspace_id)
        .filter(**{f"{owner}__in": list(found)})
        .exclude(city="")
    )
    for owner_id, city in rows.values_list(owner, "city"):
        result.setdefault(owner_id, []).append(city)
    return result


def _score(entry: Candidate, *, name: str, company: str, city: str, birthday: date | None) -> None:
    """Evidence to a score: an identifier is near-certain; otherwise the name carries most of
    it and company, city and birthday confirm (or, differing, weaken) it."""
    contact = entry.contact
    similarity = _contact_similarity(name, contact) if name else 0.0
    if similarity >= 0.8 and name:
        entry.reasons.append(_("name %(a)s ≈ %(b)s") % {"a": name, "b": contact.display_name})
    same_company = getattr(contact, "at_company", False)
    same_city = getattr(contact, "in_city", False)
    same_birthday = birthday is not None and contact.birthday == birthday
    if same_company:
        entry.reasons.append(
            _("same company %(c)s") % {"c": company} if company else _("same company")
        )
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
    score += 0.25 if same_company else (-0.1 if getattr(contact, "elsewhere", False) else 0.0)
    score += 0.1 if same_city else (-0.05 if getattr(contact, "other_city", False) else 0.0)
    score += 0.15 if same_birthday else (-0.15 if birthday and contact.birthday else 0.0)
    entry.score = round(max(0.0, min(score, 0.95)), 3)


def describe(entry: Candidate | AccountCandidate) -> dict[str, Any]:
    customer = entry.customer
    return {"id": customer.public_id, "display_name": str(customer),
            "score": entry.score, "reasons": entry.reasons}  # fmt: skip


# --- accounts ---------------------------------------------------------------------------------
def website_domain(value: str) -> str:
    """The host of a web address without "www." ("https://www.Yuanjing.cn/about" →
    yuanjing.cn); "" when it is none."""
    text = value.strip()
    if not text:
        return ""
    host = urlsplit(text if "://" in text else f"https://{text}").hostname or ""
    host = host.lower().rstrip(".")
    return host.removeprefix("www.") if "." in host else ""


def _accounts_at_domain(user: Any, domain: str) -> tuple[list[Account], set[int]]:
    """Accounts whose website, or one of whose web contact points, is on ``domain``:
    (visible accounts, primary keys of the invisible ones). Prefix probes of two indexes."""
    starts = [f"{scheme}://{host}" for scheme in ("https", "http") for host in (domain, f"www.{domain}")]  # fmt: skip
    workspace = user.workspace
    by_field = Q()
    for start in starts:
        by_field |= _prefix("website", start)
    holders = set(
        Account.objects.for_workspace(workspace).filter(by_field)
        .values_list("pk", "website")[:CANDIDATES]
    )  # fmt: skip
    by_point = Q()
    for start in starts:
        by_point |= _prefix("match_key", start)
    points = ContactPoint.objects.for_workspace(workspace).filter(
        by_point, kind="web", account__isnull=False, account__deleted_at__isnull=True
    )
    holders |= set(points.values_list("account_id", "match_key")[:CANDIDATES])
    # a prefix of "https://acme.cn" is also "https://acme.cn.evil.com": keep the same host
    ids = {pk for pk, url in holders if website_domain(url) == domain}
    visible = list(Account.objects.visible_to(user, "view").filter(pk__in=ids))
    return visible, ids - {a.pk for a in visible}


@planned_per_query
def match_accounts(
    *, user: Any, name: str = "", phone: str = "", email: str = "", website: str = "",
    city: str = "", exclude_id: int | None = None, limit: int = 10,
) -> tuple[list[AccountCandidate], int]:  # fmt: skip
    """Accounts that may be the organization described, best first, and how many others
    the user may not see: by phone, e-mail or web domain (identifiers), by name or legal
    name in any script, confirmed by the city."""
    workspace = user.workspace
    region = workspace.region or "CN"
    found: dict[int, AccountCandidate] = {}
    hidden: set[int] = set()
    visible = Account.objects.visible_to(user, "view").only("public_id", "name", "legal_name")

    def candidate(account: Account) -> AccountCandidate:
        return found.setdefault(account.pk, AccountCandidate(account))

    for kind, value in (("phone", phone), ("email", email)):
        normalized, key = _identifier(kind, value, region)
        if not key:
            continue
        points = ContactPoint.objects.for_workspace(workspace).filter(
            kind=kind, match_key=key, account__isnull=False, account__deleted_at__isnull=True
        )
        holders = set(points.values_list("account_id", flat=True)[:CANDIDATES])
        seen = {a.pk: a for a in visible.filter(pk__in=holders)}
        hidden |= holders - set(seen)
        for account in seen.values():
            entry = candidate(account)
            entry.identifier = entry.identifier or kind
            entry.reasons.append(_identifier_reason(kind, normalized))
    domain = website_domain(website)
    if domain:
        seen_at, hidden_at = _accounts_at_domain(user, domain)
        hidden |= hidden_at
        for account in seen_at:
            entry = candidate(account)
            entry.identifier = entry.identifier or "website"
            entry.reasons.append(_identifier_reason("website", domain))
    if name.strip():
        keyed = visible.alias(key=NameKey("sort_key")).filter(key__in=name_keys_of_company(name))
        named = list(keyed.order_by()[:CANDIDATES])
        if not named:
            # the legal name, and parts of names, through the search index
            wanted = _normal(name)
            similar = [a.pk for a, _rank in name_matches(Account, user, wanted, limit=CANDIDATES)]
            named = list(visible.filter(pk__in=similar))
        for account in named:
            if account.pk not in found:
                candidate(account)
    found.pop(exclude_id, None)
    if not found:
        return [], len(hidden)
    addresses = _cities(workspace.pk, Account, found) if city.strip() else {}
    for entry in found.values():
        _score_account(entry, name=name, city=city, cities=addresses.get(entry.account.pk, []))
    ranked = sorted(
        (c for c in found.values() if c.score >= MIN_SCORE),
        key=lambda c: (-c.score, c.account.name, c.account.pk),
    )
    return ranked[:limit], len(hidden - set(found))


@lru_cache(maxsize=50_000)
def company_similarity(a: str, b: str) -> float:
    """0–1: how alike two organization names are, in any script (上海远景贸易 = 上海遠景貿易
    = "Shanghai Yuanjing Maoyi"), by the letters of their keys."""
    key_a, key_b = _company_key(a), _company_key(b)
    if not key_a or not key_b:
        return 0.0
    return round(fuzz.ratio(key_a, key_b) / 100, 3)


@lru_cache(maxsize=50_000)
def _company_key(name: str) -> str:
    return name_key(family=name, given="") if name else ""


def _score_account(entry: AccountCandidate, *, name: str, city: str, cities: list[str]) -> None:
    account = entry.account
    similarity = 0.0
    if name.strip():
        similarity = max(company_similarity(name, account.name),
                         company_similarity(name, account.legal_name or ""))  # fmt: skip
    if similarity >= 0.8:
        shown = account.name
        if account.legal_name and company_similarity(name, account.legal_name) > company_similarity(
            name, account.name
        ):
            shown = account.legal_name
        entry.reasons.append(_("name %(a)s ≈ %(b)s") % {"a": name, "b": shown})
    same_city = bool(city) and any(_same_city(city, c) for c in cities)
    if same_city:
        entry.reasons.append(_("same city %(c)s") % {"c": city})
    if entry.identifier:
        score = IDENTIFIER_SCORES[entry.identifier] + (0.02 if similarity >= 0.8 else 0.0)
        entry.score = round(min(score, 0.99), 3)
        return
    # an organization's name is rarer than a person's: the same name alone is strong
    score = 0.85 * similarity
    score += 0.07 if same_city else (-0.05 if city and cities else 0.0)
    entry.score = round(max(0.0, min(score, 0.92)), 3)


# --- on_duplicate=merge: the new record's data into the existing one ---------------------------
CONTACT_FILLABLE = (
    "family_name", "given_name", "gender", "birthday", "occupation", "interests",
    "preferred_language", "preferred_channel", "source", "external_id",
)  # fmt: skip
ACCOUNT_FILLABLE = ("legal_name", "industry", "size", "website", "region", "source", "external_id")


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def _address_key(address: Any) -> tuple[str, ...]:
    parts = (address.country, address.region, address.city, address.district, address.street,
             address.street2, address.postcode)  # fmt: skip
    return tuple(normalize.normalize_query(str(part or "")) for part in parts)


@transaction.atomic
def fill_from_duplicate(
    *, customer: Customer, by: Any, data: dict[str, Any],
    tags: list[str] | None = None, custom_fields: dict[str, Any] | None = None,
    lifecycle_stage: str | None = None, contact_points: Any = (), addresses: Any = (),
    account: Account | None = None, title: str = "", parent: Account | None = None,
) -> tuple[Customer, list[str]]:  # fmt: skip
    """Complete an existing contact or account with what a new record of the same customer
    brought (``on_duplicate=merge``): its empty fields filled, the contact points, addresses,
    tags and custom fields it lacks added, the company linked — nothing it has replaced.
    Through the services (field history, versions, clash checks), with the record locked
    meanwhile; audited. Returns the record as filled and what was filled."""
    from guanxi.customers import services
    from guanxi.platform.audit import record_audit

    customer = type(customer)._base_manager.select_for_update().get(pk=customer.pk)

    is_contact = isinstance(customer, Contact)
    fillable = CONTACT_FILLABLE if is_contact else ACCOUNT_FILLABLE
    changes = {
        name: value
        for name, value in data.items()
        if name in fillable and not _empty(value) and _empty(getattr(customer, name))
    }
    extra = {key: value for key, value in (custom_fields or {}).items()
             if not _empty(value) and _empty(customer.custom_fields.get(key))}  # fmt: skip
    if extra:
        changes["custom_fields"] = extra
    if lifecycle_stage and customer.lifecycle_stage_id is None:
        changes["lifecycle_stage"] = lifecycle_stage
    if not is_contact and parent is not None and customer.parent_id is None:
        changes["parent"] = parent
    current_tags = {tag.name for tag in customer.tags.all()}
    if tags and not set(tags) <= current_tags:
        changes["tags"] = sorted(current_tags | set(tags))
    filled = sorted(changes)
    update = services.update_contact if is_contact else services.update_account
    # saved even when no field changes: the new version and history say it was completed
    update(**{"contact" if is_contact else "account": customer}, by=by,
           expected_version=customer.version, **changes)  # fmt: skip
    owner = {"contact" if is_contact else "account": customer}
    held = set(
        ContactPoint.objects.for_workspace(customer.workspace_id)
        .filter(**owner).values_list("kind", "match_key")
    )  # fmt: skip
    for index, point in enumerate(contact_points):
        _value, key = _identifier(point.kind, point.value, customer.workspace.region or "CN")
        if key and (point.kind, key) in held:
            continue
        services.add_contact_point(customer=customer, point=point, by=by,
                                   path=f"contact_points.{index}")  # fmt: skip
        if "contact_points" not in filled:
            filled.append("contact_points")
    known = {
        _address_key(row)
        for row in Address.objects.for_workspace(customer.workspace_id).filter(**owner)
    }
    for index, address in enumerate(addresses):
        if _address_key(address) in known:
            continue
        services.add_address(customer=customer, address=address, by=by, path=f"addresses.{index}")
        known.add(_address_key(address))
        if "addresses" not in filled:
            filled.append("addresses")
    if is_contact and account is not None:
        linked = AccountContact.objects.for_workspace(customer.workspace_id).filter(
            contact=customer, account=account
        )
        if not linked.exists():
            services.link_contact(contact=customer, account=account, title=title, by=by)
            filled.append("accounts")
    record_audit(action=f"{customer.object_type}.merged_on_entry", actor=by, obj=customer,
                 data={"filled": filled})  # fmt: skip
    return customer, filled
