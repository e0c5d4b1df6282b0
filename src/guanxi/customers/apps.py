from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from guanxi.customers import (
            fts,
            merging,  # noqa: F401  (registers what a merge moves)
            permissions,  # noqa: F401  (registers object types)
        )
        from guanxi.customers.services import create_default_stages
        from guanxi.platform.services import register_workspace_initializer

        register_workspace_initializer(create_default_stages)
        from guanxi.customers.demo import demo_loader
        from guanxi.platform.services import register_demo_loader

        register_demo_loader(demo_loader)
        connection_created.connect(fts.register_function, dispatch_uid="guanxi.customers.fts")
        # the name keys on account links are kept by triggers; a table rebuilt by a
        # migration gets them back after ``migrate``
        from django.db.models.signals import post_migrate

        from guanxi.customers import linkkeys

        post_migrate.connect(linkkeys.ensure_installed, sender=self,
                             dispatch_uid="guanxi.customers.linkkeys")  # fmt: skip
        # old export files go after their keep days (``guanxi worker`` schedules it)
        from datetime import timedelta

        from guanxi.customers import tasks
        from guanxi.platform import periodic

        periodic.register("prune_exports", tasks.remove_old_export_files, every=timedelta(days=1),
                          description="Delete the files of old background exports")  # fmt: skip
