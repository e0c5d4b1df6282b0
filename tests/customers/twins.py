"""People entered twice: once in Han characters, once in pinyin with the same mobile in
another format (the number marked shared, as data from an older system may have it)."""

from __future__ import annotations

from guanxi.customers import normalize, services

FAMILIES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"] * 2


def person(workspace, by, family, given, *, phone="", email="", company=None, owner=None):
    points = [services.ContactPointInput(kind=k, value=v, is_shared=True)
              for k, v in (("phone", phone), ("email", email)) if v]  # fmt: skip
    return services.create_contact(workspace=workspace, by=by, family_name=family,
                                   given_name=given, contact_points=points, account=company,
                                   owner=owner)  # fmt: skip


def make_twins(workspace, by, *, owner=None, twins=10):
    """Forty people (twenty Chinese, twenty Western), the first ``twins`` entered twice;
    returns [(original, twin)]."""
    company = services.create_account(workspace=workspace, by=by, name="星辰科技有限公司")
    people = []
    for i, (family, given) in enumerate(zip(FAMILIES, GIVEN, strict=True)):
        people.append(person(workspace, by, family, given, phone=f"1381234{i:04d}",
                             email=f"p{i}@example.cn", company=company if i % 2 else None,
                             owner=owner))  # fmt: skip
    for i in range(20):
        people.append(person(workspace, by, f"Family{i}", f"Given{i}",
                             phone=f"1391234{i:04d}", owner=owner))  # fmt: skip
    result = []
    for i, original in enumerate(people[:twins]):
        family = "".join(normalize._pinyin(original.family_name, personal=True)).capitalize()
        given = "".join(normalize._pinyin(original.given_name)).capitalize()
        twin = person(workspace, by, family, given, phone=f"+86 138 1234 {i:04d}", owner=owner)
        result.append((original, twin))
    return result
