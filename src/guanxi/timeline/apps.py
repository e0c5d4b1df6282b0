from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimelineConfig(AppConfig):
    name = "guanxi.timeline"
    label = "timeline"
    verbose_name = _("Timeline")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from guanxi.customers.handover import register_handover_participant, register_owner_listener
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.timeline import permissions, services  # noqa: F401  (registers types)
        from guanxi.timeline.api import open_activities_panel, timeline_panel

        register_panel(Panel("open_activities", _("Open activities"), 10, open_activities_panel))
        register_panel(Panel("timeline", _("Timeline"), 20, timeline_panel))
        register_owner_listener(services.note_owner_change)
        register_handover_participant("activities", services.reassign_open_activities)
        from guanxi.customers.merging import move_model, register_merge_participant
        from guanxi.timeline.models import Activity, Interaction

        register_merge_participant("interactions", *move_model(Interaction, "contact"))
        register_merge_participant("activities", *move_model(Activity, "contact"))
