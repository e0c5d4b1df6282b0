"""Normalization of phones, e-mail, messaging ids and names; search terms. Table tests with
real-world input plus property-based tests (hypothesis)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from guanxi.customers import normalize as n


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", "US", "+8613800138000"),
        ("0086 13800138000", "US", "+8613800138000"),
        ("１３８００１３８０００", "CN", "+8613800138000"),
        ("(010) 6552 9988", "CN", "+861065529988"),
        ("021-6552 9988", "CN", "+862165529988"),
        ("+852 2345 6789", "CN", "+85223456789"),
        ("2345 6789", "HK", "+85223456789"),
        ("0912 345 678", "TW", "+886912345678"),
        ("+1 (415) 555-2671", "CN", "+14155552671"),
        ("415-555-2671", "US", "+14155552671"),
    ],
)
def test_phone_to_e164(typed, region, e164):
    assert n.normalize_phone(typed, region=region).e164 == e164


def test_phone_facts():
    phone = n.normalize_phone("138 0013 8000", region="CN")
    assert (phone.national_digits, phone.region, phone.number_type) == (
        "13800138000",
        "CN",
        "mobile",
    )


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("12345", "not a valid number"), ("", "empty"), ("call me", "not a phone number"),
     ("+999 1234 5678", "country code"), ("138 0013 8000 1234 5678", "")],
)  # fmt: skip
def test_invalid_phones_say_why(typed, reason):
    with pytest.raises(n.InvalidContactValue) as error:
        n.normalize_phone(typed, region="CN")
    assert reason in error.value.reason


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        (" Zhang.Wei@Example.COM ", "Zhang.Wei@example.com"),
        ("li@BÜCHER.de", "li@bücher.de"),
        ("ｌｉ＠example.cn", "li@example.cn"),
    ],
)
def test_email(typed, normalized):
    assert n.normalize_email(typed) == normalized


@pytest.mark.parametrize("typed", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_invalid_email(typed):
    with pytest.raises(n.InvalidContactValue):
        n.normalize_email(typed)


def test_email_match_key_ignores_case():
    assert n.email_match_key("Zhang.Wei@Example.com") == n.email_match_key("zhang.wei@example.COM")


@pytest.mark.parametrize(
    ("kind", "typed", "normalized"),
    [
        ("wechat", "Zhang_Wei88", "zhang_wei88"),
        ("wechat", "13800138000", "+8613800138000"),
        ("qq", "123456789", "123456789"),
        ("line", "Nana.Ouyang", "nana.ouyang"),
        ("whatsapp", "+852 9123 4567", "+85291234567"),
        ("fax", "021 6552 9988", "+862165529988"),
        ("web", "Example.COM/About", "https://example.com/About"),
        ("web", "http://shop.example.cn", "http://shop.example.cn"),
    ],
)
def test_messaging_ids(kind, typed, normalized):
    assert n.normalize_messaging_id(kind=kind, value=typed, region="CN") == normalized


@pytest.mark.parametrize(
    ("kind", "typed"), [("wechat", "1abc"), ("qq", "0123"), ("qq", "12"), ("line", "a b"),
                        ("web", "not a url"), ("pager", "123")]
)  # fmt: skip
def test_invalid_messaging_ids(kind, typed):
    with pytest.raises(n.InvalidContactValue):
        n.normalize_contact_value(kind=kind, value=typed, region="CN")


@pytest.mark.parametrize(
    ("full", "family", "given"),
    [("张伟", "张", "伟"), ("欧阳娜娜", "欧阳", "娜娜"), ("諸葛亮", "諸葛", "亮"),
     ("Wei Zhang", "Zhang", "Wei"), ("Zhang, Wei", "Zhang", "Wei"), ("Madonna", "", "Madonna"),
     ("Mary Ann Smith", "Smith", "Mary Ann")],
)  # fmt: skip
def test_split_full_name(full, family, given):
    assert n.split_full_name(full) == (family, given)


def test_display_and_sort():
    assert n.display_name(family="张", given="伟") == "张伟"
    assert n.display_name(family="Zhang", given="Wei") == "Wei Zhang"
    assert n.sort_key(family="曾", given="伟") == "zeng wei"  # surname reading, not "ceng"
    assert n.sort_key(family="单", given="田") == "shan tian"
    assert n.sort_key(family="Dubois", given="Émilie") == "dubois emilie"


def test_search_terms_of_han_name():
    terms = n.name_search_terms("张伟", personal=True)
    for term in ("张伟", "張偉", "zhangwei", "zhang wei", "zw", "weizhang"):
        assert term in terms
    assert set(n.name_search_terms("張偉", personal=True)) == set(terms)


def test_search_terms_of_latin_name():
    terms = n.name_search_terms("Émilie Dubois", personal=True)
    assert {"emilie dubois", "dubois emilie"} <= set(terms)


def test_normalize_query():
    assert n.normalize_query("  ＺＨＡＮＧ   Wei ") == "zhang wei"
    assert n.normalize_query("張偉") == "张伟"
    assert n.normalize_query("Émilie") == "emilie"


# --- properties -------------------------------------------------------------------------------
REGIONS = ["CN", "HK", "TW", "MO", "US", "GB", "DE", "JP", "SG", "AU"]
TYPES = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
EXAMPLES = [
    (region, number)
    for region in REGIONS
    for kind in TYPES
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EXAMPLES), st.sampled_from(FORMATS))
def test_phone_normalization_is_stable(example, number_format):
    region, number = example
    typed = phonenumbers.format_number(number, number_format)
    once = n.normalize_phone(typed, region=region)
    again = n.normalize_phone(once.e164, region="CN")
    assert once.e164 == again.e164
    assert once.e164.startswith("+") and once.e164[1:].isdigit()
    assert once.e164.endswith(once.national_digits)


LOCAL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
    min_size=1,
    max_size=20,
).filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
DOMAIN = st.lists(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: ".".join([*parts, "com"]))


@settings(max_examples=200, deadline=None)
@given(LOCAL, DOMAIN)
def test_email_normalization_is_idempotent(local, domain):
    once = n.normalize_email(f"{local}@{domain}")
    assert n.normalize_email(once) == once
    assert once.split("@")[1] == once.split("@")[1].lower()
    assert once.split("@")[0] == local


HAN = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=HAN, min_size=1, max_size=4))
def test_han_name_terms(name):
    terms = n.name_search_terms(name, personal=True)
    assert terms and all(terms) and len(terms) == len(set(terms))
    assert name.casefold() in terms
    char_level = {"by_character": True}
    assert n.to_simplified(n.to_traditional(name, **char_level), **char_level) == n.to_simplified(
        name, **char_level
    )
    # whatever script the name is typed in, its simplified form and pinyin terms come out
    traditional = n.name_search_terms(n.to_traditional(name, **char_level), personal=True)
    latin = {term for term in terms if not n.has_han(term)}
    assert latin == {term for term in traditional if not n.has_han(term)}
    assert n.to_simplified(name, **char_level) in traditional


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=30))
@example("À譅")  # 譅 simplifies to 𰶎 (extension G): still Han, the accent is kept
def test_query_normalization_is_idempotent(text):
    once = n.normalize_query(text)
    assert n.normalize_query(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüñ ", min_size=1, max_size=25))
def test_latin_terms(name):
    terms = n.name_search_terms(name, personal=True)
    assert all(terms) and len(terms) == len(set(terms))
    if name.strip():
        assert " ".join(name.split()).casefold() in terms
