"""The demo workspace's customers: a few hundred bilingual accounts and contacts with phones,
e-mail, WeChat ids, consents, addresses, a year of timeline and open activities.

Everything goes through the services (normalization, clash checks, field history), except
the year of past interactions, which is written in bulk with the columns the service sets.
The same seed gives the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from guanxi.customers import generate as synthetic
from guanxi.customers import namepools as pools
from guanxi.customers import normalize, services
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.platform.context import acting_in
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Membership, Workspace
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Interaction

ACCOUNTS = 60
CONTACTS_AT_ACCOUNTS = 190
CONSUMERS = 60
STAGES = ("lead", "prospect", "customer", "customer", "loyal", "former")
HK_DISTRICTS = (
    ("香港島", "中西區", "皇后大道中"),
    ("九龍", "油尖旺區", "彌敦道"),
    ("新界", "沙田區", "沙田正街"),
)
TW_STREETS = ("信義路五段", "敦化南路二段", "中山北路一段")
US_STREETS = ("Market Street", "Broadway", "Pine Street", "Michigan Avenue")
CN_STREETS = ("世纪大道", "南京西路", "建国门外大街", "科技园南路", "天河路", "文三路")
OCCUPATIONS = ("采购经理", "总经理", "财务总监", "工程师", "教师", "医生", "Buyer", "Engineer")
INTERESTS = ("高尔夫", "茶艺", "摄影", "马拉松", "红酒", "golf", "hiking", "travel")
ACTIVITY_SUBJECTS = (
    ("call", "回访：确认到货情况"), ("meeting", "季度业务回顾"), ("visit", "上门拜访采购部"),
    ("task", "准备报价单"), ("call", "Follow up on the quote"), ("meeting", "Product demo"),
    ("task", "寄送样品"), ("visit", "Site visit with the engineering team"),
)  # fmt: skip
INTERACTION_BODIES = (
    "客户对新产品很感兴趣，约定下周再联系。", "已发送报价，等待对方内部审批。",
    "客户反映交货延迟，已协调仓库加急处理。", "Asked for a volume discount; will check with manager.",
    "确认了合同条款，法务审核中。", "Sent the catalogue and price list.", "",
)  # fmt: skip


def _address(rng: random.Random, region: str) -> AddressInput:
    if region == "CN":
        city, province, districts = rng.choice(pools.CN_CITIES)
        return AddressInput(
            country="CN", region=province, city=f"{city}市", district=rng.choice(districts),
            street=f"{rng.choice(CN_STREETS)}{rng.randint(1, 999)}号",
            postcode=f"{rng.randint(100000, 799999)}", is_primary=True,
        )  # fmt: skip
    if region == "HK":
        area, district, street = rng.choice(HK_DISTRICTS)
        return AddressInput(
            country="HK", region=area, district=district,
            street=f"{street}{rng.randint(1, 300)}號", is_primary=True,
        )  # fmt: skip
    if region == "TW":
        city, county, districts = rng.choice(pools.TW_CITIES)
        return AddressInput(
            country="TW", region=county, district=rng.choice(districts),
            street=f"{rng.choice(TW_STREETS)}{rng.randint(1, 200)}號",
            postcode=f"{rng.randint(100, 999)}", is_primary=True,
        )  # fmt: skip
    city, state, _ = rng.choice(pools.US_CITIES)
    return AddressInput(
        country="US", region=state, city=city,
        street=f"{rng.randint(10, 2999)} {rng.choice(US_STREETS)}",
        postcode=f"{rng.randint(10000, 99999)}", is_primary=True,
    )  # fmt: skip


def _region(rng: random.Random) -> str:
    return rng.choice(("CN", "CN", "CN", "CN", "HK", "TW", "US", "US"))


@transaction.atomic
def load_demo_customers(
    *, workspace: Workspace, owners: list[Membership], seed: int = 2026
) -> dict[str, int]:
    """Create the demo customers and their year of history; returns what was made."""
    rng = random.Random(seed)
    now = timezone.now()
    counter = iter(range(10**6))
    accounts: list[tuple[Account, str]] = []
    for _ in range(ACCOUNTS):
        region = _region(rng)
        name, legal_name, industry = synthetic._company_name(rng, region)
        if any(a.name == name for a, _ in accounts):
            continue
        owner = rng.choice(owners)
        e164, _ = synthetic.phone_number(region, 5_000_000 + next(counter))
        account = services.create_account(
            workspace=workspace, by=owner.user, owner=owner.user, name=name,
            legal_name=legal_name, industry=industry, region=region,
            size=rng.choice(Account.Size.values), lifecycle_stage=rng.choice(STAGES),
            source=rng.choice(("展会", "官网", "转介绍", "trade show", "referral")),
            website="https://www.example.com" if region == "US" else "",
            contact_points=[ContactPointInput(kind="phone", value=e164, label="work")],
            addresses=[_address(rng, region)],
        )  # fmt: skip
        accounts.append((account, region))

    contacts: list[Contact] = []
    plan = [rng.choice(accounts) for _ in range(CONTACTS_AT_ACCOUNTS)]
    plan += [(None, _region(rng)) for _ in range(CONSUMERS)]
    for account, region in plan:
        family, given = synthetic._person_name(rng, region)
        number = next(counter)
        e164, _ = synthetic.phone_number(region, 6_000_000 + number)
        handle = synthetic._ascii_handle(family, given)
        marketing = "granted" if rng.random() < 0.6 else "withdrawn"
        points = [
            ContactPointInput(
                kind="phone", value=e164, label="mobile", is_verified=rng.random() < 0.5,
                consents={"marketing": marketing, "service": "granted"},
                consent_source=rng.choice(("web form", "展会登记", "phone call")),
            )
        ]  # fmt: skip
        if rng.random() < 0.7:
            domain = "example.com" if account is not None else rng.choice(pools.EMAIL_DOMAINS_CN)
            points.append(
                ContactPointInput(kind="email", value=f"{handle}{number}@{domain}", label="work")
            )
        if region == "CN" and rng.random() < 0.5:
            points.append(ContactPointInput(kind="wechat", value=f"wx_{handle[:12]}{number}"))
        owner_user = account.owner if account is not None else rng.choice(owners).user
        contact = services.create_contact(
            workspace=workspace, by=owner_user, owner=owner_user, family_name=family,
            given_name=given, account=account,
            title=rng.choice(OCCUPATIONS) if account is not None else "",
            gender=rng.choice(("female", "male")),
            birthday=(now - timedelta(days=rng.randint(25 * 365, 60 * 365))).date()
            if rng.random() < 0.4 else None,
            occupation=rng.choice(OCCUPATIONS), interests=rng.choice(INTERESTS),
            preferred_language=synthetic.LANGUAGE[region],
            preferred_channel=rng.choice(("phone", "email", "wechat")),
            lifecycle_stage=rng.choice(STAGES), contact_points=points,
            addresses=[_address(rng, region)] if account is None else [],
        )  # fmt: skip
        contacts.append(contact)

    interactions = _timeline(rng, workspace=workspace, contacts=contacts, now=now)
    activities = _activities(rng, workspace=workspace, contacts=contacts, now=now)
    twins = _second_records(rng, workspace=workspace, contacts=contacts)
    return {
        "accounts": len(accounts),
        "contacts": len(contacts) + twins,
        "duplicates": twins,
        "interactions": interactions,
        "activities": activities,
    }


def _timeline(
    rng: random.Random, *, workspace: Workspace, contacts: list[Contact], now: datetime
) -> int:
    """A year of past touches, a handful to a few dozen per contact."""
    primary = {
        c.pk: account_id
        for c in contacts
        for account_id in [c.memberships.filter(is_primary=True).values_list("account_id", flat=True).first()]
    }  # fmt: skip
    channels = ("phone", "email", "wechat", "meeting", "visit", "sms", "web_form")
    rows = []
    for contact in contacts:
        for _ in range(int(rng.random() ** 2 * 30) + 1):
            when = now - timedelta(seconds=rng.uniform(3600, 365 * 86400))
            rows.append(
                Interaction(
                    workspace=workspace, public_id=new_public_id(Interaction.public_id_prefix),
                    channel=rng.choice(channels), direction=rng.choice(("inbound", "outbound")),
                    occurred_at=when, created_at=when, updated_at=when, actor=contact.owner,
                    created_by=contact.owner, updated_by=contact.owner, contact=contact,
                    account_id=primary[contact.pk],
                    subject=rng.choice(pools.INTERACTION_SUBJECTS),
                    body=rng.choice(INTERACTION_BODIES),
                )
            )  # fmt: skip
    Interaction.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _activities(
    rng: random.Random, *, workspace: Workspace, contacts: list[Contact], now: datetime
) -> int:
    """Open work for the coming weeks, and some done in the past weeks (on the timeline)."""
    count = 0
    for contact in rng.sample(contacts, min(80, len(contacts))):
        kind, subject = rng.choice(ACTIVITY_SUBJECTS)
        due = now + timedelta(hours=rng.randint(-72, 21 * 24))
        activity = timeline.create_activity(
            workspace=workspace, by=contact.owner, kind=kind, subject=subject, contact=contact,
            due_at=due.replace(minute=0, second=0, microsecond=0),
            remind_at=(due - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0),
        )  # fmt: skip
        if due < now - timedelta(hours=24) or rng.random() < 0.25:
            timeline.complete_activity(
                activity=activity, by=contact.owner, expected_version=activity.version,
                outcome=rng.choice(INTERACTION_BODIES) or "已完成",
                completed_at=min(due, now - timedelta(minutes=5)),
            )  # fmt: skip
        count += 1
    return count


SALES_ROLES = ("sales_manager", "sales_rep")
SECOND_RECORDS = 8


def _second_records(rng: random.Random, *, workspace: Workspace, contacts: list[Contact]) -> int:
    """People entered a second time, as a trade-show card is typed in by another rep: the
    name in pinyin or in traditional characters, the mobile in another format (the number
    marked shared, so both records may hold it), the same company — for the duplicate scan
    to find."""
    from guanxi.customers.models import ContactPoint

    chinese = [c for c in contacts if normalize.has_han(c.display_name)]
    count = 0
    for original in rng.sample(chinese, min(SECOND_RECORDS, len(chinese))):
        phone = (
            ContactPoint.objects.for_workspace(workspace)
            .filter(contact=original, kind="phone")
            .first()
        )
        if phone is None:
            continue
        ContactPoint.objects.filter(pk=phone.pk).update(is_shared=True)
        if count % 2:
            family = normalize.to_traditional(original.family_name, by_character=True)
            given = normalize.to_traditional(original.given_name, by_character=True)
        else:
            family = "".join(normalize._pinyin(original.family_name, personal=True)).capitalize()
            given = "".join(normalize._pinyin(original.given_name)).capitalize()
        digits = phone.value.removeprefix("+86")
        typed = f"{digits[:3]} {digits[3:7]} {digits[7:]}" if len(digits) == 11 else phone.value
        account = original.accounts.first()
        services.create_contact(
            workspace=workspace, by=original.owner, owner=original.owner, family_name=family,
            given_name=given, account=account, source="展会名片",
            contact_points=[ContactPointInput(kind="phone", value=typed, is_shared=True)],
        )  # fmt: skip
        count += 1
    return count


def demo_loader(*, workspace: Workspace, members: dict[str, Membership]) -> str:
    """The ``guanxi demo`` hook: customers owned by the demo's sales people."""
    owners = [m for m in members.values() if m.role.key in SALES_ROLES]
    with acting_in(workspace):
        counts = load_demo_customers(workspace=workspace, owners=owners)
    scanner = next((m for m in members.values() if m.role.key == "sales_manager"), None)
    proposed = 0
    if scanner is not None:  # the review queue has something to show from the start
        from guanxi.customers import dedupe

        with acting_in(workspace, scanner):
            proposed = dedupe.scan(dedupe.start_run(membership=scanner))["pairs"]
    return (
        f"loaded {counts['accounts']} accounts, {counts['contacts']} contacts "
        f"({counts['duplicates']} entered twice; {proposed} possible duplicates to review), "
        f"{counts['interactions']} interactions and {counts['activities']} activities"
    )
