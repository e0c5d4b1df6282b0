"""Writes bilingual.csv: contacts with known identities, to measure duplicate detection.

Each person has a ``truth`` id; rows with the same truth are one person written another way:
in pinyin (either order) instead of Han, in traditional characters, with a typo or a
homophone in the given name, a phone in another format, an e-mail in other case, a company
in the other script. Hard negatives are different people who look alike: the most common
Chinese and Western names, namesakes in the same city, colleagues with the same surname.

    python tests/data/identity/make_bilingual.py   # same seed, same file
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import opencc
from pypinyin import Style, lazy_pinyin

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
GIVEN = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "晓明", "志强",
    "婷", "雪", "玉兰", "国强", "海燕", "俊杰", "子涵", "浩然", "欣怡", "梓轩", "雨桐", "思远",
    "嘉怡", "宇航", "佳琪", "一鸣", "晨曦", "若曦", "梦琪", "天佑", "心怡", "建国", "春梅",
    "鹏飞", "晓东", "丽娟", "志刚", "海涛", "红梅", "永强", "德华", "美玲", "淑芬", "雅婷",
]  # fmt: skip
# a homophone (same pinyin, other character): what a typist picks from the candidate list
HOMOPHONES = {"伟": "玮", "芳": "方", "静": "靖", "丽": "莉", "强": "蔷", "磊": "垒", "军": "君",
              "杰": "洁", "娟": "涓", "涛": "韬", "明": "铭", "华": "桦", "红": "虹", "婷": "亭",
              "雪": "薛", "平": "萍", "文": "雯", "勇": "咏", "超": "潮", "洋": "阳"}  # fmt: skip
WEST_GIVEN = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
              "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
              "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Matthew", "Emily", "Andrew",
              "Hannah", "Kevin", "Olivia", "Brian", "Sophia", "Peter", "Grace"]  # fmt: skip
WEST_FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
               "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
               "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott",
               "Green", "Baker", "Adams", "Nelson", "Carter"]  # fmt: skip
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "苏州", "西安"]
WEST_CITIES = ["Boston", "Seattle", "Chicago", "Denver", "Austin", "Portland"]
BRANDS = ["华信", "星辰", "宏达", "瑞丰", "恒通", "远航", "金鼎", "博远", "光明", "天成", "鼎盛",
          "新锐", "汇丰达", "安盛", "中科创", "联合", "海纳", "东方", "长江", "锦程"]  # fmt: skip
TRADES = ["科技有限公司", "贸易有限公司", "光电股份有限公司", "物流有限公司", "电子有限公司"]
WEST_COMPANIES = ["Acme Corp", "Globex Inc", "Initech LLC", "Umbrella Ltd", "Stark Industries",
                  "Wayne Enterprises", "Hooli Inc", "Vandelay Industries", "Soylent Co",
                  "Tyrell Corp"]  # fmt: skip
DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com"]
PREFIXES = ["138", "139", "136", "137", "150", "151", "186", "188", "135", "159"]

t2s, s2t = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def pinyin(text: str) -> list[str]:
    return [s.capitalize() for s in lazy_pinyin(text, style=Style.NORMAL)]


def mobile(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def other_format(number: str, rng: random.Random) -> str:
    if number.startswith("+1"):
        digits = number[2:]
        return rng.choice([f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                           f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"])  # fmt: skip
    return rng.choice([f"+86 {number[:3]} {number[3:7]} {number[7:]}", f"{number[:3]}-{number[3:7]}-{number[7:]}",
                       f"0086{number}", f"+86-{number}"])  # fmt: skip


def latin_typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def birthday(rng: random.Random) -> str:
    return f"{rng.randint(1960, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def person(rng: random.Random, truth: int, chinese: bool) -> dict[str, str]:
    if chinese:
        family, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        py = pinyin(family) + pinyin(given)
        email_user = "".join(py).lower() + str(rng.randint(1, 999))
        company = rng.choice(BRANDS) + rng.choice(TRADES)
        city, phone = rng.choice(CITIES), mobile(rng)
    else:
        family, given = rng.choice(WEST_FAMILY), rng.choice(WEST_GIVEN)
        email_user = f"{given}.{family}{rng.randint(1, 99)}".lower()
        company, city = rng.choice(WEST_COMPANIES), rng.choice(WEST_CITIES)
        phone = f"+1{rng.choice(['206', '617', '312', '303'])}{rng.randint(2000000, 9999999)}"
    return {
        "truth": str(truth), "family_name": family, "given_name": given, "phone": phone,
        "email": f"{email_user}@{rng.choice(DOMAINS)}",
        "company": company if rng.random() < 0.8 else "", "city": city if rng.random() < 0.8 else "",
        "birthday": birthday(rng) if rng.random() < 0.5 else "", "variant": "original",
    }  # fmt: skip


def variant(base: dict[str, str], rng: random.Random) -> dict[str, str]:
    row = dict(base)
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in base["family_name"])
    kinds = ["pinyin", "traditional", "homophone", "phone_format", "email_case", "swapped"]
    if not chinese:
        kinds = ["typo", "phone_format", "email_case", "swapped"]
    kind = rng.choice(kinds)
    row["variant"] = kind
    if kind == "pinyin":  # typed in Latin letters, given name first as on a business card
        row["family_name"] = "".join(pinyin(base["family_name"]))
        row["given_name"] = "".join(pinyin(base["given_name"])).capitalize()
        row["phone"] = other_format(base["phone"], rng)
        row["email"] = ""
    elif kind == "traditional":
        row["family_name"], row["given_name"] = (
            s2t.convert(base["family_name"]),
            s2t.convert(base["given_name"]),
        )
        row["company"] = s2t.convert(base["company"])
        row["email"] = base["email"].upper()
        row["phone"] = ""
    elif kind == "homophone":  # the candidate list's neighbour; no identifier, but the rest
        given = base["given_name"]
        row["given_name"] = "".join(HOMOPHONES.get(ch, ch) for ch in given)
        row["phone"], row["email"] = "", ""
        row["company"] = base["company"] or rng.choice(BRANDS) + rng.choice(TRADES)
        row["city"] = base["city"] or rng.choice(CITIES)
        row["birthday"] = base["birthday"] or birthday(rng)
        base.update(company=row["company"], city=row["city"], birthday=row["birthday"])
    elif kind == "typo":
        row["given_name"] = latin_typo(base["given_name"], rng)
        row["phone"] = other_format(base["phone"], rng)
        row["email"] = ""
    elif kind == "phone_format":
        row["phone"] = other_format(base["phone"], rng)
        row["email"], row["company"] = "", ""
    elif kind == "email_case":
        row["email"] = base["email"].upper()
        row["phone"], row["city"] = "", ""
    elif kind == "swapped":  # family and given typed into each other's boxes
        if chinese:
            py_family, py_given = (
                "".join(pinyin(base["family_name"])),
                "".join(pinyin(base["given_name"])),
            )
            row["family_name"], row["given_name"] = py_given.capitalize(), py_family
        else:
            row["family_name"], row["given_name"] = base["given_name"], base["family_name"]
        row["email"] = ""
    return row


def hard_negatives(
    rng: random.Random, truth: int, people: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Different people who look alike: the same common name in the same city or company
    with other phones, e-mails and birthdays."""
    rows = []
    for family, given in [("张", "伟"), ("王", "芳"), ("李", "娜"), ("刘", "洋"), ("陈", "静")]:
        for _ in range(6):
            row = person(rng, truth, chinese=True)
            row.update(family_name=family, given_name=given, city=rng.choice(CITIES[:3]), birthday=birthday(rng),
                       variant="namesake")  # fmt: skip
            rows.append(row)
            truth += 1
    for family, given in [("Smith", "John"), ("Johnson", "Mary"), ("Brown", "David")]:
        for _ in range(5):
            row = person(rng, truth, chinese=False)
            row.update(family_name=family, given_name=given, city=WEST_CITIES[0], birthday=birthday(rng),
                       variant="namesake")  # fmt: skip
            rows.append(row)
            truth += 1
    for base in rng.sample([p for p in people if p["company"]], 40):  # a colleague, same surname
        row = person(rng, truth, chinese=base["family_name"][0] >= "\u4e00")
        given = rng.choice([g for g in (GIVEN if row["family_name"][0] >= "\u4e00" else WEST_GIVEN)
                            if g != base["given_name"]])  # fmt: skip
        row.update(family_name=base["family_name"], given_name=given, company=base["company"],
                   city=base["city"], variant="colleague")  # fmt: skip
        rows.append(row)
        truth += 1
    return rows


def main() -> None:
    rng = random.Random(20261203)
    people = [person(rng, truth, chinese=rng.random() < 0.7) for truth in range(1, 601)]
    rows = list(people)
    for base in people:
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2])):
            rows.append(variant(base, rng))
    rows += hard_negatives(rng, 10_000, people)
    rng.shuffle(rows)
    path = Path(__file__).with_name("bilingual.csv")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows, {len({r['truth'] for r in rows})} people -> {path}")


if __name__ == "__main__":
    main()
