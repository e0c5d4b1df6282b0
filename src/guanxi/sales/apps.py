from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.customers.merging import move_model, register_merge_participant
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.platform.services import register_workspace_initializer
        from guanxi.sales import (
            lead_imports,
            order_imports,
            permissions,  # noqa: F401  (registers object types)
        )
        from guanxi.sales.api import open_opportunities_panel
        from guanxi.sales.models import Opportunity
        from guanxi.sales.services import create_default_pipeline

        register_workspace_initializer(create_default_pipeline)
        # the dashboards' lead numbers: funnel steps and the response time against the SLA
        # `guanxi demo`: deals and orders, after the customers they belong to
        from guanxi.platform.services import register_demo_loader
        from guanxi.sales import lead_metrics  # noqa: F401
        from guanxi.sales.demo import demo_loader

        register_demo_loader(demo_loader)
        # `guanxi import --type orders` goes through the customers' import engine
        order_imports.register()
        # `guanxi import --type leads`: lists and business cards (vCard), routed like any lead
        lead_imports.register()
        # a merged contact's opportunities go to the survivor, and come back on unmerge
        register_merge_participant("opportunities", *move_model(Opportunity, "contact"))
        # `guanxi demo`: today's and yesterday's field visits of the demo's sales people
        from guanxi.sales.visits_demo import demo_loader as visits_demo_loader

        register_demo_loader(visits_demo_loader)
        # lead routing: score, assign and time the follow-up of every new lead
        from guanxi.sales.lead_routing import receivers as lead_routing_receivers

        lead_routing_receivers.connect()
        # the board's totals are kept by triggers; a table rebuilt by a migration gets
        # them back after ``migrate``
        from django.db.models.signals import post_migrate

        from guanxi.sales import totals

        post_migrate.connect(totals.ensure_installed, sender=self,
                             dispatch_uid="guanxi.sales.totals")  # fmt: skip
        # jobs that run on their own (``guanxi worker`` schedules them)
        from datetime import timedelta

        from guanxi.platform import periodic
        from guanxi.sales import tasks
        from guanxi.sales.lead_routing import tasks as routing_tasks

        periodic.register("lead_sla", routing_tasks.sweep_lead_sla, every=timedelta(minutes=5),
                          description="Escalate leads nobody touched in time")  # fmt: skip
        periodic.register("rescore_leads", routing_tasks.rescore_all_leads,
                          every=timedelta(days=1),
                          description="Score open leads again so behaviour fades")  # fmt: skip
        periodic.register("expire_quotes", tasks.expire_quotes, every=timedelta(hours=1),
                          description="Expire open quotes past their validity")  # fmt: skip
        periodic.register("forecast_snapshots", tasks.take_weekly_forecast_snapshots,
                          every=timedelta(days=7),
                          description="Snapshot forecasts for forecast accuracy")  # fmt: skip
        # a merged contact's roles in deals go to the survivor (retired where it has one)
        from guanxi.sales.contact_roles import move_roles, roles_back

        register_merge_participant("opportunity_contact_roles", move_roles, roles_back)
        # the customer 360 (API and record pages) lists a customer's open opportunities, with
        # a link to each deal and "New opportunity"
        register_panel(
            Panel(
                "opportunities",
                _("Opportunities"),
                30,
                open_opportunities_panel,
                template="web/sales/_opportunities_panel.html",
            )
        )
