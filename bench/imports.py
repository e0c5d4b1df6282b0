"""Import figures: rows per second and peak memory of `guanxi import`, and a kill -9 in the
middle followed by --resume (no row lost, none doubled).

Writes a contact CSV of N rows (Chinese names, GB18030 like Excel on Chinese Windows,
2 % broken phones, 1 % rows whose phone an existing contact already has), then imports it
into a workspace with `guanxi import` in a child process, as a user would:

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen \\
        python bench/imports.py --workspace scale --rows 100000 --kill

``--type interactions`` writes a call and message log instead (contacts named by the phone
of an existing contact, 1 % unknown numbers, 1 % repeated external ids).

Prints one JSON object per line; ``peak_mb`` is the importing process's peak RSS. When
PostgreSQL runs on this machine, the line also says where the processor time went: the
importing process's and the database's (every ``postgres`` process: the import's backends,
WAL writer, checkpointer) per row, and the rows per second those would allow if every core
did nothing else (``cpu_bound_rows_per_s``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django
from django.db import connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.dev")
os.environ.setdefault("GUANXI_DEBUG", "false")
django.setup()

from guanxi.customers import namepools  # noqa: E402
from guanxi.customers.models import Contact, ContactPoint, ImportJob  # noqa: E402
from guanxi.platform.models import Workspace  # noqa: E402


def write_csv(path: Path, *, rows: int, workspace: Workspace, seed: int, prefix: str) -> dict:
    rnd = random.Random(seed)
    existing = list(
        ContactPoint.objects.for_workspace(workspace)
        .filter(kind="phone", contact__isnull=False)
        .values_list("value", flat=True)[: max(rows // 100, 1)]
    )
    broken = duplicates = 0
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机", "邮箱", "公司", "城市", "标签", "客户编号"])
        for i in range(rows):
            name = rnd.choice(namepools.CN_SURNAMES) + rnd.choice(namepools.CN_GIVEN_NAMES)
            roll = rnd.random()
            if roll < 0.02:
                phone, broken = f"1{rnd.randint(10, 99)}", broken + 1
            elif roll < 0.03 and existing:
                phone, duplicates = rnd.choice(existing), duplicates + 1
            else:
                phone = f"13{i % 10}{(seed * 7919 + i) % 10**8:08d}"
            city = rnd.choice(namepools.CN_CITIES)[0]
            writer.writerow([name, phone, f"{prefix.lower()}{i}@example.cn",
                             f"{city}{rnd.choice(namepools.CN_BRANDS)}贸易有限公司", city,
                             rnd.choice(["展会", "vip", ""]), f"{prefix}-{i:08d}"])  # fmt: skip
    return {"broken": broken, "duplicates": duplicates}


def write_interactions(path: Path, *, rows: int, workspace: Workspace, seed: int, prefix: str
                       ) -> dict:  # fmt: skip
    rnd = random.Random(seed)
    phones = list(
        ContactPoint.objects.for_workspace(workspace)
        .filter(kind="phone", contact__isnull=False)
        .values_list("value", flat=True)[:20_000]
    )
    unknown = repeated = 0
    channels = ["电话", "微信", "邮件", "短信", "拜访", "phone", "wechat"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["手机", "渠道", "方向", "时间", "主题", "内容", "记录编号"])
        for i in range(rows):
            roll = rnd.random()
            phone = rnd.choice(phones)
            number = i
            if roll < 0.01:
                phone, unknown = f"+8617{i % 10**9:09d}", unknown + 1
            elif roll < 0.02 and i:
                number, repeated = rnd.randrange(i), repeated + 1
            writer.writerow([phone, channels[number % len(channels)],
                             "呼入" if number % 3 else "呼出",
                             f"2025-{number % 12 + 1:02d}-{number % 28 + 1:02d} 10:{number % 60:02d}",
                             "回访", f"第 {number} 次沟通", f"{prefix}-{number}"])  # fmt: skip
    return {"unknown_contacts": unknown, "repeated_ids": repeated}


def guanxi(*args: str) -> list[str]:
    return [sys.executable, "-m", "guanxi", *args]


def database_cpu_seconds() -> float | None:
    """Processor seconds used so far by this machine's PostgreSQL processes (None when the
    database is elsewhere, or not PostgreSQL)."""
    if connection.vendor != "postgresql" or not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        if name == "postgres":
            # utime, stime, and cutime, cstime: the postmaster's count of its ended children —
            # the backends of connections that closed meanwhile (fields 14 to 17)
            total += sum(int(value) for value in rest.split()[11:15])
            seen = True
    return total / ticks if seen else None


def run_import(path: Path, workspace: str, *extra: str) -> tuple[dict, float, float, dict]:
    """Runs `guanxi import` to the end; returns its JSON line, seconds, peak RSS in MB and
    where the processor time went."""
    database_before = database_cpu_seconds()
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    process = subprocess.run(
        guanxi("import", str(path), "--workspace", workspace, "--policy", "skip", *extra),
        capture_output=True, text=True,
    )  # fmt: skip
    if process.returncode:
        raise SystemExit(f"the import failed: {process.stderr[-3000:]}")
    seconds = time.monotonic() - began
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    importer = usage.ru_utime + usage.ru_stime - own.ru_utime - own.ru_stime
    database_after = database_cpu_seconds()
    counts = json.loads(process.stdout.strip().splitlines()[-1])
    cpu = {"importer_cpu_s": round(importer, 1)}
    if database_before is not None and database_after is not None:
        database = database_after - database_before
        rows = counts["total"]
        per_row = (importer + database) / rows
        cpu.update(
            database_cpu_s=round(database, 1),
            importer_cpu_us_per_row=round(importer / rows * 1e6),
            database_cpu_us_per_row=round(database / rows * 1e6),
            cores_busy=round((importer + database) / seconds, 2),
            cpu_bound_rows_per_s=round((os.cpu_count() or 1) / per_row),
        )
    return counts, seconds, usage.ru_maxrss / 1024, cpu


def kill_and_resume(path: Path, workspace: Workspace, slug: str, prefix: str) -> dict:
    """Start an import, SIGKILL it once some batches are in, resume it, count."""
    before = (
        ImportJob.objects.for_workspace(workspace)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )
    child = subprocess.Popen(
        guanxi("import", str(path), "--workspace", slug, "--policy", "skip"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    job = None
    while job is None or job.checkpoint < 2000:
        time.sleep(0.5)
        job = (
            ImportJob.objects.for_workspace(workspace).filter(id__gt=before).order_by("-id").first()
        )
        if child.poll() is not None:
            raise SystemExit(
                f"the import ended before it could be killed: {child.stderr.read()[-2000:]}"
            )
    child.send_signal(signal.SIGKILL)
    child.wait()
    job.refresh_from_db()
    at_kill = job.checkpoint
    resumed = subprocess.run(
        guanxi("import", "--resume", job.public_id, "--workspace", slug),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    counts = json.loads(resumed.stdout.strip().splitlines()[-1])
    in_db = (
        Contact.objects.for_workspace(workspace)
        .filter(external_id__startswith=f"{prefix}-")
        .count()
    )
    return {
        "bench": "import_kill_resume", "killed_at_line": at_kill, **counts,
        "contacts_from_file_in_db": in_db,
        "no_row_lost_or_doubled": counts["total"] == sum(1 for _ in path.open(encoding="gb18030")) - 1
        and in_db == counts["created"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--type", choices=("contacts", "interactions"), default="contacts")
    parser.add_argument("--kill", action="store_true", help="Also kill -9 an import and resume it.")
    parser.add_argument("--kill-rows", type=int, default=20_000,
                        help="Rows of the file killed and resumed (default 20,000).")  # fmt: skip
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    existing = Contact.objects.for_workspace(workspace).count()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{args.type}.csv"
        prefix = f"B{args.seed}"
        write = write_csv if args.type == "contacts" else write_interactions
        made = write(path, rows=args.rows, workspace=workspace, seed=args.seed, prefix=prefix)
        counts, seconds, peak, cpu = run_import(path, args.workspace, "--type", args.type)
        print(json.dumps({
            "bench": f"import_{args.type}", "rows": args.rows, "existing_contacts": existing,
            "seconds": round(seconds, 1), "rows_per_s": round(args.rows / seconds),
            "peak_mb": round(peak), **cpu, **made, **counts,
        }), flush=True)  # fmt: skip
        if args.kill and args.type == "contacts":
            path2 = Path(folder) / "contacts2.csv"
            prefix2 = f"K{args.seed}"
            rows = min(args.rows, args.kill_rows)
            write_csv(path2, rows=rows, workspace=workspace, seed=args.seed + 1, prefix=prefix2)
            print(
                json.dumps(kill_and_resume(path2, workspace, args.workspace, prefix2)), flush=True
            )


if __name__ == "__main__":
    main()
