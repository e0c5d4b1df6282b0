"""The field visits of ``guanxi demo``: each sales person has visits today to check in to,
and yesterday's day to look back on in the team view (two reported, one missed)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from guanxi.customers.models import Contact
from guanxi.platform.context import acting_in
from guanxi.platform.models import Membership, Workspace
from guanxi.sales import visits
from guanxi.sales.models import VisitCheckIn
from guanxi.timeline.models import Activity

SALES_ROLES = ("sales_manager", "sales_rep")
TODAY = [(time(9, 30), "介绍新产品"), (time(11, 0), "送样品"), (time(14, 0), "收集反馈"),
         (time(16, 30), "续签合同")]  # fmt: skip
# yesterday: (time, purpose, minutes late at check-in or None for missed, minutes spent, outcome)
YESTERDAY = [(time(10, 0), "季度回访", 4, 40, "met"), (time(13, 30), "报价沟通", 35, 25, "order_taken"),
             (time(15, 30), "设备巡检", None, 0, "")]  # fmt: skip


def _at(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), at, tzinfo=zone)


def demo_loader(*, workspace: Workspace, members: dict[str, Membership]) -> str:
    """The ``guanxi demo`` hook (after the customers' loader, whose contacts it visits)."""
    zone = ZoneInfo(workspace.time_zone)
    today = datetime.now(zone)
    yesterday = today - timedelta(days=1)
    planned = reported = 0
    with acting_in(workspace):
        for member in members.values():
            if member.role.key not in SALES_ROLES:
                continue
            contacts = list(
                Contact.objects.for_workspace(workspace)
                .filter(owner=member.user)
                .order_by("id")[: len(TODAY) + len(YESTERDAY)]
            )
            for contact, (at, purpose) in zip(contacts, TODAY, strict=False):
                visits.plan_visit(workspace=workspace, by=member.user, customer=contact,
                                  due_at=_at(today, at, zone), subject=purpose)  # fmt: skip
                planned += 1
            for contact, (at, purpose, late, spent, outcome) in zip(
                contacts[len(TODAY) :], YESTERDAY, strict=False
            ):
                due = _at(yesterday, at, zone)
                visit = visits.plan_visit(workspace=workspace, by=member.user, customer=contact,
                                          due_at=due, subject=purpose)  # fmt: skip
                planned += 1
                if late is None:
                    continue  # missed: never checked in
                _report(visit, member, due + timedelta(minutes=late), spent, outcome)
                reported += 1
    return f"planned {planned} field visits ({reported} of yesterday's reported)"


def _report(
    visit: Activity, member: Membership, arrived: datetime, spent: int, outcome: str
) -> None:
    """Check in, out and log the outcome as the rep would have, at yesterday's times."""
    marks = VisitCheckIn.objects.for_workspace(visit.workspace_id)
    mark, _created = visits.check_in(activity=visit, by=member.user, latitude=31.2304,
                                     longitude=121.4737, accuracy=15)  # fmt: skip
    marks.filter(pk=mark.pk).update(at=arrived, client_time=arrived)
    left, _created = visits.check_out(activity=visit, by=member.user)
    marks.filter(pk=left.pk).update(at=arrived + timedelta(minutes=spent),
                                    duration_seconds=spent * 60)  # fmt: skip
    visits.log_outcome(activity=visit, by=member.user, outcome=outcome, note="客户反馈良好")
