"""Normalizing what people type into the customer master: phone numbers (E.164), e-mail
addresses, messaging ids, Chinese and Western names, and the search terms that let one box
find 张伟 by "zhangwei", "zhang wei", "zw", 張偉 or "Wei Zhang".

Pure functions: no models, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email
from pypinyin import Style, lazy_pinyin


class InvalidContactValue(ValueError):
    def __init__(self, *, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason
        super().__init__(f"{kind}: {reason}")


# --- phones -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormalizedPhone:
    e164: str
    national_digits: str
    region: str
    number_type: str

    @property
    def formatted_international(self) -> str:
        number = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def formatted_national(self) -> str:
        number = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


_TYPE_NAMES = {v: k.lower() for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()}
# Mainland mobile numbers (1 and ten digits) are most of what imports and forms see; whether
# one is valid, and its type, depend only on its first digits, so phonenumbers answers once
# per 7-digit range and the rest is string work.
_CN_MOBILE = re.compile(r"(?:\+?86|0086)?(1\d{10})")
_CN_MOBILE_RANGES: dict[str, str | None] = {}
_SEPARATORS = str.maketrans("", "", " -.()\u00a0")


_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: _("unknown country code"),
    phonenumbers.NumberParseException.NOT_A_NUMBER: _("not a phone number"),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: _("too short"),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: _("too short"),
    phonenumbers.NumberParseException.TOO_LONG: _("too long"),
}
_LENGTH_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: _("too short"),
    phonenumbers.ValidationResult.TOO_LONG: _("too long"),
    phonenumbers.ValidationResult.INVALID_LENGTH: _("wrong number of digits"),
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: _("unknown country code"),
}


def normalize_phone(value: str, *, region: str) -> NormalizedPhone:
    """Parse a phone number as typed; ``region`` reads numbers without a country code.

    E.164 (ITU-T) is the stored form: "+" country code and national number, digits only.
    "00" and "0086"-style international prefixes and full-width digits are understood.
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise InvalidContactValue(kind="phone", reason=_("empty"))
    mobile = _CN_MOBILE.fullmatch(text.translate(_SEPARATORS))
    if mobile and (region.upper() == "CN" or text.translate(_SEPARATORS)[:1] in "+0"):
        digits = mobile.group(1)
        if digits[:7] not in _CN_MOBILE_RANGES:
            number = phonenumbers.parse("+86" + digits)
            valid = phonenumbers.is_valid_number(number)
            _CN_MOBILE_RANGES[digits[:7]] = (
                _TYPE_NAMES.get(phonenumbers.number_type(number), "unknown") if valid else None
            )
        number_type = _CN_MOBILE_RANGES[digits[:7]]
        if number_type is not None:
            return NormalizedPhone(
                e164="+86" + digits, national_digits=digits, region="CN", number_type=number_type
            )
    if text.startswith("00") and not text.startswith("000"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, _("not a phone number"))
        raise InvalidContactValue(kind="phone", reason=f"{reason}: {value!r}") from exc
    if not phonenumbers.is_valid_number(number):
        length = phonenumbers.is_possible_number_with_reason(number)
        reason = _LENGTH_REASONS.get(length, _("not a valid number"))
        where = phonenumbers.region_code_for_number(number) or region.upper()
        raise InvalidContactValue(
            kind="phone",
            reason=_("%(reason)s for region %(region)s: %(value)r")
            % {"reason": reason, "region": where, "value": value},
        )
    return NormalizedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national_digits=str(phonenumbers.national_significant_number(number)),
        region=phonenumbers.region_code_for_number(number) or "",
        number_type=_TYPE_NAMES.get(phonenumbers.number_type(number), "unknown"),
    )


# --- e-mail -----------------------------------------------------------------------------------
def normalize_email(value: str) -> str:
    """Trimmed, domain lower-cased (and IDNA-normalized). The local part keeps its case:
    RFC 5321 §2.4 lets a mailbox's local part be case-sensitive."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContactValue(kind="email", reason=str(exc)) from exc
    return f"{result.local_part}@{result.domain.lower()}"


def email_match_key(value: str) -> str:
    """The form used to find the same mailbox twice: fully lower-cased (in practice every
    provider treats local parts case-insensitively)."""
    return normalize_email(value).lower()


# --- messaging ids ----------------------------------------------------------------------------
_WECHAT = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{5,19}$")
_QQ = re.compile(r"^[1-9][0-9]{4,10}$")
_LINE = re.compile(r"^[a-zA-Z0-9._-]{1,20}$")


def normalize_messaging_id(*, kind: str, value: str, region: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise InvalidContactValue(kind=kind, reason=_("empty"))
    if kind == "wechat":
        if _WECHAT.match(text):
            return text.lower()
        try:  # a WeChat account can be found by its phone number
            return normalize_phone(text, region=region).e164
        except InvalidContactValue:
            raise InvalidContactValue(
                kind=kind,
                reason=_("a WeChat ID has 6–20 letters, digits, _ or -, starting with a letter"),
            ) from None
    if kind == "qq":
        if not _QQ.match(text):
            raise InvalidContactValue(kind=kind, reason=_("a QQ number has 5–11 digits"))
        return text
    if kind in ("whatsapp", "fax"):
        try:
            return normalize_phone(text, region=region).e164
        except InvalidContactValue as exc:
            raise InvalidContactValue(kind=kind, reason=exc.reason) from None
    if kind == "line":
        if not _LINE.match(text):
            raise InvalidContactValue(
                kind=kind, reason=_("a LINE ID has up to 20 letters, digits, '.', '_' or '-'")
            )
        return text.lower()
    if kind == "web":
        url = text if "://" in text else f"https://{text}"
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or "." not in host or " " in url:
            raise InvalidContactValue(
                kind=kind, reason=_("not a web address: %(value)r") % {"value": value}
            )
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path or "", parts.query, ""))
    raise InvalidContactValue(kind=kind, reason=f"unknown kind {kind!r}")


def normalize_contact_value(*, kind: str, value: str, region: str) -> tuple[str, dict[str, Any]]:
    """(normalized value, extra facts) for any contact point kind."""
    if kind == "phone":
        phone = normalize_phone(value, region=region)
        return phone.e164, {
            "national_digits": phone.national_digits,
            "region": phone.region,
            "number_type": phone.number_type,
        }
    if kind == "email":
        return normalize_email(value), {}
    normalized = normalize_messaging_id(kind=kind, value=value, region=region)
    if kind in ("whatsapp", "fax"):
        phone = normalize_phone(normalized, region=region)
        return normalized, {"national_digits": phone.national_digits, "region": phone.region}
    return normalized, {}


# --- countries ---------------------------------------------------------------------------------
# what people write for a country besides ISO 3166 codes and CLDR's names
COUNTRY_ALIASES = {
    "prc": "CN", "chn": "CN", "中华人民共和国": "CN", "中國大陸": "CN", "中国大陆": "CN",
    "大陆": "CN", "mainland china": "CN", "china mainland": "CN", "p.r. china": "CN",
    "p.r.c.": "CN", "香港": "HK", "hong kong": "HK", "hkg": "HK", "澳门": "MO", "澳門": "MO",
    "macau": "MO", "macao": "MO", "臺灣": "TW", "台湾地区": "TW", "twn": "TW", "usa": "US",
    "u.s.a.": "US", "u.s.": "US", "america": "US", "uk": "GB", "great britain": "GB",
    "britain": "GB", "england": "GB", "gbr": "GB", "korea": "KR", "韩国": "KR", "韓國": "KR",
    "deu": "DE", "jpn": "JP", "sgp": "SG", "新加坡共和国": "SG",
}  # fmt: skip


@cache
def _country_names() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for tag in ("en", "zh_Hans", "zh_Hant", "zh_Hant_HK"):
        for code, name in Locale.parse(tag).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(name.casefold(), code)
                names.setdefault(code.casefold(), code)
    names.update(COUNTRY_ALIASES)
    return names


def country_code(value: str) -> str | None:
    """The ISO 3166 two-letter code for a code or a country's name in English, simplified or
    traditional Chinese ("中国", "中國", "China", "cn" -> "CN"); None when not a country."""
    text = " ".join(unicodedata.normalize("NFKC", value or "").split()).casefold()
    return _country_names().get(text) if text else None


# --- Chinese script ---------------------------------------------------------------------------
@cache
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def _convert(config: str, text: str, by_character: bool) -> str:
    converter = _converter(config)
    if not by_character:
        return converter.convert(text)
    return "".join(converter.convert(char) for char in text)


def to_simplified(text: str, *, by_character: bool = False) -> str:
    """Traditional → simplified. ``by_character`` skips OpenCC's phrase rules, which read
    names as words (沈靜 would become 沉静, "calm") — search terms and queries use it."""
    return _convert("t2s", text, by_character)


def to_traditional(text: str, *, by_character: bool = False) -> str:
    return _convert("s2t", text, by_character)


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        # the supplementary planes' ideographs: extensions B–I, compatibility, G and H
        # (a traditional character may simplify to one of these: 譅 → 𰶎, extension G)
        or 0x20000 <= code <= 0x323AF
        or 0xF900 <= code <= 0xFAFF
    )


def has_han(text: str) -> bool:
    return any(_is_han(char) for char in text)


# --- names ------------------------------------------------------------------------------------
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "申屠",
        "澹台",
        "赫连",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "万俟",
        "闻人",
        "司空",
        "歐陽",
        "諸葛",
        "長孫",
        "軒轅",
        "鍾離",
        "聞人",
    ]
)
# Readings of characters that differ when they are a surname (the first character).
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "單": "shan", "解": "xie", "区": "ou", "區": "ou", "仇": "qiu",
    "朴": "piao", "查": "zha", "盖": "ge", "蓋": "ge", "任": "ren", "乐": "yue", "樂": "yue",
    "秘": "bi", "缪": "miao", "繆": "miao", "尉": "yu", "翟": "zhai", "覃": "qin", "种": "chong", "员": "yun", "員": "yun", "柏": "bai", "藏": "zang", "宁": "ning", "寧": "ning",
    "沈": "shen", "长": "zhang", "長": "zhang", "重": "chong",
}  # fmt: skip


def split_full_name(full: str) -> tuple[str, str]:
    """(family, given) from a name typed in one field."""
    text = " ".join(unicodedata.normalize("NFKC", full or "").split())
    if not text:
        return "", ""
    if has_han(text) and " " not in text:
        surname_length = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
        return text[:surname_length], text[surname_length:]
    if "," in text:
        family, _, given = text.partition(",")
        return family.strip(), given.strip()
    parts = text.split(" ")
    if len(parts) == 1:
        return "", parts[0]
    return parts[-1], " ".join(parts[:-1])


def display_name(*, family: str, given: str, locale: str = "en") -> str:
    """张伟 for Han names in every locale; "Wei Zhang" for Latin names."""
    family, given = (family or "").strip(), (given or "").strip()
    if has_han(family) or has_han(given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def _pinyin(text: str, *, personal: bool = False) -> list[str]:
    """Toneless pinyin syllables; Latin runs come through casefolded."""
    syllables = lazy_pinyin(to_simplified(text, by_character=True), style=Style.NORMAL)
    if personal and text and text[0] in SURNAME_READINGS and syllables:
        syllables[0] = SURNAME_READINGS[text[0]]
    return [s.casefold() for s in syllables if s.strip()]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sort_key(*, family: str, given: str) -> str:
    """Family name first, in pinyin for Han names, casefolded and accent-free for Latin."""
    text = f"{family} {given}".strip()
    if has_han(text):
        return " ".join(_pinyin(text.replace(" ", ""), personal=True))
    return _strip_accents(text).casefold()


def name_search_terms(*texts: str, personal: bool = False) -> list[str]:
    """Every lower-case term a search box should match for these names or company names."""
    return list(_name_search_terms(texts, personal))


@lru_cache(maxsize=100_000)  # names and company names repeat: 张伟 is many people
def _name_search_terms(texts: tuple[str, ...], personal: bool) -> tuple[str, ...]:
    terms: list[str] = []

    def add(term: str) -> None:
        term = " ".join(term.split())
        if term and term not in terms:
            terms.append(term)

    for raw in texts:
        text = unicodedata.normalize("NFKC", raw or "").strip()
        if not text:
            continue
        add(text.casefold())
        if has_han(text):
            compact = text.replace(" ", "")
            add(to_simplified(compact, by_character=True))
            add(to_traditional(compact, by_character=True))
            syllables = _pinyin(compact, personal=personal)
            add("".join(syllables))
            add(" ".join(syllables))
            add("".join(s[0] for s in syllables))
            if personal and 2 <= len(compact) <= 4:
                surname_length = 2 if compact[:2] in COMPOUND_SURNAMES else 1
                given = syllables[surname_length:]
                add("".join(given + syllables[:surname_length]))
                add(" ".join(["".join(given), "".join(syllables[:surname_length])]))
        else:
            plain = _strip_accents(text).casefold()
            add(plain)
            words = plain.split()
            if len(words) > 1:
                add(" ".join(reversed(words)))
                add("".join(words))
    return tuple(terms)


def search_document(*texts: str, personal: bool = False) -> str:
    return " ".join(name_search_terms(*texts, personal=personal))


def normalize_query(q: str) -> str:
    """What the search box compares: NFKC (full-width → half-width), casefolded,
    traditional → simplified, single spaces."""
    text = unicodedata.normalize("NFKC", q or "").casefold()
    text = to_simplified(text, by_character=True) if has_han(text) else _strip_accents(text)
    return " ".join(unicodedata.normalize("NFKC", text).split())
