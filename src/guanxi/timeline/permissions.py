"""Who may see and plan activities; interactions are seen with the customer they concern."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.permissions import ObjectType, Scope, register_object_type

ALL, SUBTREE, TEAM, OWN = Scope.ALL.value, Scope.SUBTREE.value, Scope.TEAM.value, Scope.OWN.value
MINE = {"view": OWN, "add": ALL, "change": OWN}

register_object_type(
    ObjectType(
        key="timeline.activity",
        label=_("Activity"),
        actions=("view", "add", "change", "delete", "assign"),
        fallback=MINE,
        defaults={
            "sales_manager": {
                "view": SUBTREE,
                "add": ALL,
                "change": SUBTREE,
                "delete": SUBTREE,
                "assign": SUBTREE,
            },
            "service_manager": {
                "view": ALL,
                "add": ALL,
                "change": ALL,
                "delete": ALL,
                "assign": ALL,
            },
            "analyst": {"view": ALL},
        },
    )
)
register_object_type(
    ObjectType(
        key="timeline.interaction",
        label=_("Interaction"),
        actions=("view", "add"),
        fallback={"view": ALL, "add": ALL},
        defaults={"analyst": {"view": ALL}},
    )
)
