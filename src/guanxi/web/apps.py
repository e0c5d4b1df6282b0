from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "guanxi.web"
    label = "web"
    verbose_name = _("Web application")

    def ready(self) -> None:
        from guanxi.customers.handover import register_owner_listener
        from guanxi.web import notifications

        register_owner_listener(notifications.tell_new_owner)
