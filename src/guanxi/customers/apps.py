from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.customers import permissions  # noqa: F401  (registers object types)
        from guanxi.customers.services import create_default_stages
        from guanxi.platform.services import register_workspace_initializer

        register_workspace_initializer(create_default_stages)
