"""Synthetic customers and timeline at scale, for benchmarks and load tests.

``generate(workspace=…, customers=N, interactions=M, seed=S)`` writes N customers (one in
ten an account, the rest contacts, most of them working at an account), their phones,
e-mail addresses and WeChat ids, and M interactions spread over three years, straight into
the tables: ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite. It bypasses the
services (no field history, no audit per row) but writes exactly the columns they would —
normalized contact points, search documents, sort keys — so search, lists and the 360 see
the same data they would after an import. The same seed gives the same data.

Mainland Chinese, Hong Kong, Taiwanese and US customers are mixed 6:1:1:2, with names in the
script each market uses and phone numbers of its numbering plan. One contact (the first) can
be given an outsized timeline (``heavy``) to show the 360 does not slow down with it.
"""

from __future__ import annotations

import base64
import json
import random
import resource
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from guanxi.customers import namepools as pools
from guanxi.customers import normalize
from guanxi.customers.models import Account, AccountContact, Contact, ContactPoint, LifecycleStage
from guanxi.platform import services as platform_services
from guanxi.platform.models import Membership, Role, Team, Workspace
from guanxi.timeline.models import Channel, Interaction

CHUNK = 50_000
ACCOUNT_SHARE = 10  # one customer in ten is an account
TIMELINE_YEARS = 3
REGIONS = ("CN",) * 6 + ("HK", "TW", "US", "US")
CHANNEL_WEIGHTS = {
    Channel.PHONE: 30, Channel.EMAIL: 25, Channel.WECHAT: 20, Channel.SMS: 5, Channel.MEETING: 5,
    Channel.VISIT: 5, Channel.WEB_FORM: 4, Channel.CHAT: 4, Channel.SYSTEM: 2,
}  # fmt: skip
LANGUAGE = {"CN": "zh-hans", "HK": "zh-hant", "TW": "zh-hant", "US": "en"}


@dataclass
class GenerateReport:
    workspace: str
    seed: int
    accounts: int = 0
    contacts: int = 0
    account_links: int = 0
    contact_points: int = 0
    interactions: int = 0
    heavy_contact: str = ""
    seconds: float = 0.0
    rows_per_second: int = 0
    peak_rss_mb: int = 0
    steps: dict[str, float] = field(default_factory=dict)


# --- writing rows fast ------------------------------------------------------------------------
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz")


def public_id(prefix: str, millis: int, randomness: int) -> str:
    """A prefixed ULID (48-bit time, 80-bit randomness) without a library call per row."""
    value = (millis << 80) | randomness
    # 130 bits = 26 base32 characters; shift so the two spare bits lead.
    encoded = base64.b32encode((value << 6).to_bytes(17, "big")).decode()
    return f"{prefix}_{encoded[:26].translate(_CROCKFORD)}"


class Table:
    """Column order and per-row defaults of one model's table; with ``auto_pk`` the primary
    key is left out and the database numbers the rows (history rows, link tables)."""

    def __init__(self, model: type[models.Model], *, auto_pk: bool = False) -> None:
        fields = [f for f in model._meta.concrete_fields if not (auto_pk and f.primary_key)]
        self.model = model
        self.name = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.position = {f.attname: index for index, f in enumerate(fields)}
        self.template = [self._default(f) for f in fields]

    @staticmethod
    def _default(f: models.Field) -> Any:
        if f.primary_key or f.null:
            return None
        value = f.get_default()
        if isinstance(value, dict | list):
            return json.dumps(value)
        if isinstance(value, datetime):
            return None  # always set by the generator
        return value

    def row(self, **values: Any) -> list[Any]:
        row = self.template.copy()
        for name, value in values.items():
            row[self.position[name]] = value
        return row


class Writer:
    """Rows into a table: COPY on PostgreSQL, batched executemany on SQLite."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection

    def timestamp(self, moment: datetime) -> str:
        if self.vendor == "postgresql":
            return moment.isoformat(sep=" ")
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")

    def reserve_ids(self, table: Table, count: int) -> int:
        """The first of ``count`` consecutive primary keys nobody else will be given."""
        if count == 0:
            return 0  # nothing will be written (a sequence cannot be set below its start)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                    " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table.name, table.name, count],
                )
                return cursor.fetchone()[0] - count + 1
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')
            return cursor.fetchone()[0] + 1

    def new_ids(self, table: Table, count: int) -> list[int]:
        """``count`` primary keys for rows about to be written in the current transaction,
        safe while others insert into the table too (imports beside everyday work)."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table.name, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite has one writer at a time: the UPDATE takes the write lock, and
            # sqlite_sequence (AUTOINCREMENT) never hands out a number twice.
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT EXISTS"
                " (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                [table.name, table.name],
            )
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(MAX(id), 0)"
                f' FROM "{table.name}")) + %s WHERE name = %s',
                [count, table.name],
            )
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table.name])
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))

    def insert(self, table: Table, rows: list[list[Any]]) -> None:
        """Rows into the table within the caller's transaction."""
        if not rows:
            return
        columns = ", ".join(f'"{c}"' for c in table.columns)
        if self.vendor == "postgresql":
            sql = f'COPY "{table.name}" ({columns}) FROM STDIN'
            with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in table.columns)
            self.raw.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)

    def write(self, table: Table, rows: Iterable[list[Any]], *, expected: int) -> int:
        """Write the rows in chunks; returns the count.

        On PostgreSQL, when the load is larger than what the table holds, its secondary
        indexes and unique constraints are dropped first and built again afterwards, all in
        one transaction: sorting once is much faster than inserting row by row into
        indexes bigger than memory, and other sessions wait on the table lock rather than
        seeing it without its constraints.
        """
        if self.vendor == "postgresql" and self._smaller_than(table, expected):
            with transaction.atomic():
                rebuild = self._drop_indexes(table)
                written = self._write_chunks(table, rows)
                self._build_indexes(rebuild)
            return written
        return self._write_chunks(table, rows)

    def _write_chunks(self, table: Table, rows: Iterable[list[Any]]) -> int:
        written = 0
        iterator = iter(rows)
        while True:
            chunk = [row for _, row in zip(range(CHUNK), iterator, strict=False)]
            if not chunk:
                return written
            with transaction.atomic():
                self.insert(table, chunk)
            written += len(chunk)

    def _smaller_than(self, table: Table, count: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT count(*) FROM (SELECT 1 FROM "{table.name}" LIMIT %s) AS head', [count]
            )
            return cursor.fetchone()[0] < count

    def _drop_indexes(self, table: Table) -> list[str]:
        """Drop secondary indexes, unique and foreign-key constraints; returns the SQL that
        rebuilds them (foreign keys last, each checked by one join instead of per row)."""
        with connection.cursor() as cursor:
            # ALTER TABLE refuses to run while checks of earlier writes are pending
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'LOCK TABLE "{table.name}" IN ACCESS EXCLUSIVE MODE')
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
                [table.name],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table.name],
            )
            indexes = cursor.fetchall()
            rebuild, foreign_keys = [], []
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"')
                statement = f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{name}" {definition}'
                (foreign_keys if definition.startswith("FOREIGN") else rebuild).append(statement)
            for name, definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
                rebuild.append(definition)
        return rebuild + foreign_keys

    def _build_indexes(self, statements: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def analyze(self, tables: Iterable[Table]) -> None:
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for table in tables:
                    cursor.execute(f'ANALYZE "{table.name}"')
            else:
                cursor.execute("PRAGMA optimize")


# --- the people who own the customers ---------------------------------------------------------
def sales_force(workspace: Workspace, reps: int) -> list[Membership]:
    """The workspace's sales reps; creates ``reps`` of them in five teams when it has none."""
    members = list(
        Membership.objects.for_workspace(workspace)
        .filter(role__key="sales_rep", is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if members:
        return members
    roles = {role.key: role for role in Role.objects.for_workspace(workspace)}
    teams = [
        Team.objects.for_workspace(workspace).filter(name=name).first()
        or platform_services.create_team(workspace=workspace, name=name)
        for name in ("华东销售部", "华北销售部", "华南销售部", "港台销售部", "North America")
    ]
    managers = []
    for index, team in enumerate(teams):
        user = platform_services.create_user(username=f"{workspace.slug}.manager{index + 1}")
        managers.append(
            platform_services.add_member(
                workspace=workspace, user=user, role=roles["sales_manager"], team=team
            )
        )
    for index in range(reps):
        user = platform_services.create_user(username=f"{workspace.slug}.rep{index + 1}")
        members.append(
            platform_services.add_member(
                workspace=workspace,
                user=user,
                role=roles["sales_rep"],
                team=teams[index % len(teams)],
                manager=managers[index % len(teams)],
            )
        )
    return members


# --- names, cached: a million customers share some ten thousand names -------------------------
@cache
def _person(family: str, given: str) -> tuple[str, str, str]:
    """(display name, search document, sort key)"""
    display = normalize.display_name(family=family, given=given)
    document = normalize.search_document(display, f"{family}{given}", personal=True)
    return display, document, normalize.sort_key(family=family, given=given)[:300]


@cache
def _company(name: str, legal_name: str) -> tuple[str, str]:
    """(search document, sort key)"""
    document = normalize.search_document(name, legal_name)
    return document, normalize.sort_key(family=name, given="")[:300]


@cache
def _ascii_handle(family: str, given: str) -> str:
    text = (
        "".join(normalize._pinyin(f"{family}{given}"))
        if normalize.has_han(family)
        else (f"{given}.{family}")
    )
    handle = normalize._strip_accents(text).casefold()
    return "".join(ch for ch in handle if ch.isalnum() or ch == ".") or "user"


def _company_name(rng: random.Random, region: str) -> tuple[str, str, str]:
    """(name, legal name, industry)"""
    if region == "CN":
        city, _, _ = rng.choice(pools.CN_CITIES)
        first, second = rng.sample(pools.CN_BRANDS, 2)
        trade, industry = rng.choice(pools.CN_TRADES)
        name = f"{city}{first}{second}{trade}"
        return name, "", industry
    if region == "HK":
        han, latin = rng.choice(pools.HK_COMPANIES)
        trade_han, trade_latin, industry = rng.choice(pools.HK_TRADES)
        return f"{latin} {trade_latin}", f"{han}{trade_han}", industry
    if region == "TW":
        city, _, _ = rng.choice(pools.TW_CITIES)
        trade, industry = rng.choice(pools.TW_TRADES)
        return f"{city}{rng.choice(pools.TW_BRANDS)}{trade}", "", industry
    brand = rng.choice(pools.US_BRANDS)
    trade, industry = rng.choice(pools.US_TRADES)
    second = rng.choice(pools.WESTERN_FAMILY_NAMES)
    return f"{brand} {second} {trade}", "", industry


def _person_name(rng: random.Random, region: str) -> tuple[str, str]:
    if region == "US" or (region == "HK" and rng.random() < 0.4):
        return rng.choice(pools.WESTERN_FAMILY_NAMES), rng.choice(pools.WESTERN_GIVEN_NAMES)
    if rng.random() < 0.01:
        family = rng.choice(pools.CN_COMPOUND_SURNAMES)
    else:
        family = rng.choice(pools.CN_SURNAMES)
    given = rng.choice(pools.CN_GIVEN_NAMES)
    if region in ("HK", "TW"):
        family = normalize.to_traditional(family, by_character=True)
        given = normalize.to_traditional(given, by_character=True)
    return family, given


def phone_number(region: str, index: int) -> tuple[str, str]:
    """(E.164, national digits), distinct for every index below eight million."""
    if region == "CN":
        national = pools.CN_MOBILE_PREFIXES[index % 10] + f"{index:08d}"
        return f"+86{national}", national
    if region == "HK":
        national = pools.HK_MOBILE_PREFIXES[index // 10**6 % 8] + f"{index % 10**6:06d}"
        return f"+852{national}", national
    if region == "TW":
        national = "9" + f"{index:08d}"
        return f"+886{national}", national
    area = pools.US_CITIES[index % len(pools.US_CITIES)][2]
    national = f"{area}{2 + index // 10**6 % 8}{index % 10**6:06d}"
    return f"+1{national}", national


# --- the generator ----------------------------------------------------------------------------
def generate(
    *,
    workspace: Workspace,
    customers: int,
    interactions: int,
    seed: int = 0,
    heavy: int = 0,
    reps: int = 50,
    progress: Callable[[str], None] = lambda message: None,
) -> GenerateReport:
    """Bulk-load synthetic customers and timeline into ``workspace`` (see the module text)."""
    if customers < 2:
        raise ValueError("customers must be at least 2")
    if interactions < 0 or heavy < 0 or heavy > interactions:
        raise ValueError("interactions must be ≥ 0 and heavy ≤ interactions")
    started = time.perf_counter()
    rng = random.Random(seed)
    # Public ids must differ between runs (they are unique across workspaces); the data the
    # seed fixes does not include them.
    ids = random.Random()
    run = f"{ids.getrandbits(32):08x}"
    writer = Writer()
    report = GenerateReport(workspace=workspace.slug, seed=seed)
    force = sales_force(workspace, reps)
    owners = [(m.user_id, m.team_id) for m in force]
    stages = list(LifecycleStage.objects.for_workspace(workspace).values_list("pk", flat=True))
    now = timezone.now()
    now_millis = int(now.timestamp() * 1000)
    account_count = max(1, customers // ACCOUNT_SHARE)
    contact_count = customers - account_count
    tables = {m: Table(m) for m in (Account, Contact, AccountContact, ContactPoint, Interaction)}

    def step(name: str, since: float) -> None:
        report.steps[name] = round(time.perf_counter() - since, 1)
        progress(f"{name}: {report.steps[name]} s")

    def customer_columns(
        prefix: str, pk: int, index: int, created: datetime, owner: int
    ) -> dict[str, Any]:
        """What accounts and contacts share: ids, who and when, owner and team, stage."""
        stamp = writer.timestamp(created)
        user_id, team_id = owners[owner]
        return {
            "id": pk,
            "workspace_id": workspace.pk,
            "public_id": public_id(prefix, int(created.timestamp() * 1000), ids.getrandbits(80)),
            "created_at": stamp,
            "updated_at": stamp,
            "created_by_id": user_id,
            "updated_by_id": user_id,
            "owner_id": user_id,
            "team_id": team_id,
            "lifecycle_stage_id": rng.choice(stages) if stages else None,
            "source": "generated",
            "external_id": f"gen-{run}-{prefix}-{index}",
        }

    # accounts ------------------------------------------------------------------------------
    since = time.perf_counter()
    first_account = writer.reserve_ids(tables[Account], account_count)
    account_region = bytearray()
    account_owner = array("i")
    account_docs: list[str] = []
    by_region: dict[str, list[int]] = {r: [] for r in set(REGIONS)}

    def account_rows() -> Iterator[list[Any]]:
        table = tables[Account]
        for index in range(account_count):
            region = rng.choice(REGIONS)
            name, legal_name, industry = _company_name(rng, region)
            document, sort_key = _company(name, legal_name)
            owner = rng.randrange(len(owners))
            created = now - timedelta(days=rng.uniform(0, 365 * TIMELINE_YEARS))
            account_region.append(ord(region[0]))
            account_owner.append(owner)
            account_docs.append(document)
            by_region[region].append(index)
            yield table.row(
                **customer_columns("acc", first_account + index, index, created, owner),
                name=name,
                legal_name=legal_name,
                industry=industry,
                size=rng.choice(Account.Size.values),
                region=region,
                search_document=document,
                sort_key=sort_key,
            )

    report.accounts = writer.write(tables[Account], account_rows(), expected=account_count)
    step("accounts", since)

    # contacts and their account relationships ------------------------------------------------
    since = time.perf_counter()
    first_contact = writer.reserve_ids(tables[Contact], contact_count)
    contact_account = array("q")  # account id or 0
    contact_owner = array("i")
    contact_region = bytearray()
    handles: list[str] = []
    region_of = {ord(r[0]): r for r in REGIONS}

    def contact_rows() -> Iterator[list[Any]]:
        table = tables[Contact]
        for index in range(contact_count):
            region = rng.choice(REGIONS)
            account = -1
            if rng.random() < 0.7 and by_region[region]:
                account = rng.choice(by_region[region])
            family, given = _person_name(rng, region)
            display, document, sort_key = _person(family, given)
            if account >= 0:
                document = f"{document} {account_docs[account]}"
                owner = account_owner[account]
            else:
                owner = rng.randrange(len(owners))
            created = now - timedelta(days=rng.uniform(0, 365 * TIMELINE_YEARS))
            contact_account.append(first_account + account if account >= 0 else 0)
            contact_owner.append(owner)
            contact_region.append(ord(region[0]))
            handles.append(_ascii_handle(family, given))
            yield table.row(
                **customer_columns("con", first_contact + index, index, created, owner),
                family_name=family,
                given_name=given,
                display_name=display,
                gender=rng.choice(("female", "male", "")),
                preferred_language=LANGUAGE[region],
                search_document=document[:4000],
                sort_key=sort_key,
            )

    report.contacts = writer.write(tables[Contact], contact_rows(), expected=contact_count)
    account_docs.clear()
    step("contacts", since)

    since = time.perf_counter()
    linked = [i for i in range(contact_count) if contact_account[i]]
    first_link = writer.reserve_ids(tables[AccountContact], len(linked))
    stamp = writer.timestamp(now)

    def link_rows() -> Iterator[list[Any]]:
        table = tables[AccountContact]
        for number, index in enumerate(linked):
            yield table.row(
                id=first_link + number,
                workspace_id=workspace.pk,
                public_id=public_id("rel", now_millis, ids.getrandbits(80)),
                created_at=stamp,
                updated_at=stamp,
                account_id=contact_account[index],
                contact_id=first_contact + index,
                title=rng.choice(("总经理", "采购经理", "销售总监", "Buyer", "CTO", "财务")),
                is_primary=True,
            )

    report.account_links = writer.write(tables[AccountContact], link_rows(), expected=len(linked))
    linked.clear()
    step("account_links", since)

    # contact points --------------------------------------------------------------------------
    since = time.perf_counter()
    per_contact = [
        (rng.random() < 0.6, rng.random() < 0.25) for _ in range(contact_count)
    ]  # (has e-mail, has WeChat)
    point_count = contact_count + sum(e + w for e, w in per_contact) + (account_count + 1) // 2
    first_point = writer.reserve_ids(tables[ContactPoint], point_count)

    def point_rows() -> Iterator[list[Any]]:
        table = tables[ContactPoint]
        number = first_point
        base = {"workspace_id": workspace.pk, "created_at": stamp, "updated_at": stamp}
        for index in range(contact_count):
            region = region_of[contact_region[index]]
            e164, national = phone_number(region, index)
            holder = {"contact_id": first_contact + index}
            yield table.row(
                id=number, public_id=public_id("cp", now_millis, ids.getrandbits(80)), **base, **holder,
                kind="phone", label="mobile", value=e164, match_key=e164, raw_value=e164,
                digits_reversed=national[::-1], is_primary=True,
            )  # fmt: skip
            number += 1
            has_email, has_wechat = per_contact[index]
            if has_email:
                domains = pools.EMAIL_DOMAINS_CN if region != "US" else pools.EMAIL_DOMAINS_WEST
                email = f"{handles[index]}{index}@{domains[index % len(domains)]}"
                yield table.row(
                    id=number, public_id=public_id("cp", now_millis, ids.getrandbits(80)), **base,
                    **holder, kind="email", label="work", value=email, match_key=email,
                    raw_value=email, is_primary=True,
                )  # fmt: skip
                number += 1
            if has_wechat:
                wechat = f"wx_{handles[index].replace('.', '')[:10]}{index}"
                yield table.row(
                    id=number, public_id=public_id("cp", now_millis, ids.getrandbits(80)), **base,
                    **holder, kind="wechat", value=wechat, match_key=wechat.casefold(),
                    raw_value=wechat, is_primary=True,
                )  # fmt: skip
                number += 1
        for index in range(0, account_count, 2):
            e164, national = phone_number(region_of[account_region[index]], contact_count + index)
            yield table.row(
                id=number, public_id=public_id("cp", now_millis, ids.getrandbits(80)), **base,
                account_id=first_account + index, kind="phone", label="work", value=e164,
                match_key=e164, raw_value=e164, digits_reversed=national[::-1], is_primary=True,
            )  # fmt: skip
            number += 1

    report.contact_points = writer.write(tables[ContactPoint], point_rows(), expected=point_count)
    per_contact.clear()
    handles.clear()
    step("contact_points", since)

    # interactions, oldest first so the time-ordered ids append to their index -----------------
    since = time.perf_counter()
    first_interaction = writer.reserve_ids(tables[Interaction], interactions)
    report.interactions = writer.write(
        tables[Interaction],
        _interaction_rows(
            rng=rng, ids=ids, writer=writer, table=tables[Interaction], workspace=workspace,
            first_id=first_interaction, count=interactions, heavy=heavy, now=now,
            first_contact=first_contact, contact_count=contact_count,
            contact_account=contact_account, contact_owner=contact_owner, owners=owners,
        ),
        expected=interactions,
    )  # fmt: skip
    step("interactions", since)

    since = time.perf_counter()
    writer.analyze(tables.values())
    step("analyze", since)
    report.heavy_contact = (
        Contact.objects.for_workspace(workspace)
        .filter(pk=first_contact)
        .values_list("public_id", flat=True)[0]
        if heavy
        else ""
    )
    report.seconds = round(time.perf_counter() - started, 1)
    rows = (
        report.accounts + report.contacts + report.account_links + report.contact_points
        + report.interactions
    )  # fmt: skip
    report.rows_per_second = int(rows / max(report.seconds, 0.001))
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return report


def _interaction_rows(
    *, rng: random.Random, ids: random.Random, writer: Writer, table: Table, workspace: Workspace, first_id: int,
    count: int, heavy: int, now: datetime, first_contact: int, contact_count: int,
    contact_account: array, contact_owner: array, owners: list[tuple[int, int | None]],
) -> Iterator[list[Any]]:  # fmt: skip
    channels = [str(c) for c in CHANNEL_WEIGHTS]
    weights = list(CHANNEL_WEIGHTS.values())
    channel_draws = 4096
    span = TIMELINE_YEARS * 365 * 86400
    start = now.timestamp() - span
    heavy_every = count // heavy if heavy else 0
    directions = ("inbound", "outbound", "outbound")
    subjects = pools.INTERACTION_SUBJECTS
    template = table.template
    pos = table.position
    p_id, p_public, p_created, p_updated = pos["id"], pos["public_id"], pos["created_at"], pos["updated_at"]  # fmt: skip
    p_by, p_upd_by, p_channel, p_direction = pos["created_by_id"], pos["updated_by_id"], pos["channel"], pos["direction"]  # fmt: skip
    p_when, p_actor, p_contact, p_account, p_subject = pos["occurred_at"], pos["actor_id"], pos["contact_id"], pos["account_id"], pos["subject"]  # fmt: skip
    template = template.copy()
    template[pos["workspace_id"]] = workspace.pk
    random_float, randbits, choices = rng.random, ids.getrandbits, rng.choices
    pending_channels: list[str] = []
    timestamp = writer.timestamp
    zone = UTC
    for number in range(count):
        if not pending_channels:
            pending_channels = choices(channels, weights, k=channel_draws)
        if heavy_every and number % heavy_every == 0 and number // heavy_every < heavy:
            index = 0
        else:
            # skewed: a few customers have long timelines, most have short ones
            index = int(contact_count * random_float() ** 2)
            if heavy_every and index == 0:
                index = 1  # the heavy contact's count stays exact
        seconds = start + span * (number + random_float()) / count
        moment = datetime.fromtimestamp(seconds, zone)
        stamp = timestamp(moment)
        owner = owners[contact_owner[index]][0]
        account = contact_account[index]
        row = template.copy()
        row[p_id] = first_id + number
        row[p_public] = public_id("int", int(seconds * 1000), randbits(80))
        row[p_created] = row[p_updated] = row[p_when] = stamp
        row[p_by] = row[p_upd_by] = row[p_actor] = owner
        row[p_channel] = pending_channels.pop()
        row[p_direction] = directions[number % 3]
        row[p_contact] = first_contact + index
        row[p_account] = account or None
        row[p_subject] = subjects[number % len(subjects)]
        yield row
