from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "guanxi.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from datetime import timedelta

        from guanxi.platform import lookups, periodic, permissions, signals, tasks  # noqa: F401  (registers types, hooks, lookups)

        periodic.register("prune_idempotency_keys", tasks.prune_idempotency_keys,
                          every=timedelta(hours=1),
                          description="Forget Idempotency-Key answers older than a day")  # fmt: skip
