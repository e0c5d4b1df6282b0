"""Object types of the sales app and what the default roles may do with them.

Opportunities follow the sales hierarchy (REQUIREMENTS §5: sales sees own/team, managers
see their tree): a rep sees the team's deals and changes their own, a manager works on the
deals of everyone under them. Reopening a won deal changes booked revenue, so it is an
action of its own, for administrators and sales managers.
"""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.permissions import ObjectType, Scope, register_object_type

ALL, SUBTREE, TEAM, OWN = Scope.ALL.value, Scope.SUBTREE.value, Scope.TEAM.value, Scope.OWN.value
REOPEN = "reopen"

register_object_type(
    ObjectType(
        key="sales.pipeline",
        label=_("Pipeline"),
        actions=("view", "add", "change", "delete"),
        # everyone who sees a deal needs its pipeline; administrators (all actions by
        # default) shape them
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="sales.opportunity",
        label=_("Opportunity"),
        actions=("view", "add", "change", "delete", "assign", REOPEN),
        defaults={
            "sales_manager": {
                "view": SUBTREE,
                "add": ALL,
                "change": SUBTREE,
                "delete": SUBTREE,
                "assign": SUBTREE,
                REOPEN: SUBTREE,
            },
            "sales_rep": {"view": TEAM, "add": OWN, "change": OWN},
            "dealer_user": {"view": TEAM, "add": OWN, "change": OWN},
            "marketer": {"view": ALL},
            "service_manager": {"view": ALL},
            "analyst": {"view": ALL},
        },
    )
)
# Orders come from the ERP (an administrator's or integration's token) and are read like the
# deals they close: a rep sees the team's, a manager the tree's. Changing booked orders by
# hand is for managers; the ERP stays their source.
register_object_type(
    ObjectType(
        key="sales.order",
        label=_("Order"),
        actions=("view", "add", "change", "delete"),
        defaults={
            "sales_manager": {"view": SUBTREE, "add": ALL, "change": SUBTREE, "delete": SUBTREE},
            "sales_rep": {"view": TEAM, "add": OWN, "change": OWN},
            "dealer_user": {"view": TEAM},
            "marketer": {"view": ALL},
            "service_manager": {"view": ALL},
            "analyst": {"view": ALL},
        },
    )
)
# Forecasts follow the manager tree: a rep sees their own numbers, a manager their subtree's
# rolled up and adjusts them (REQUIREMENTS §2.1); adjustments are records of their own
# (sales.forecast's rows), never a change of the rep's numbers.
ADJUST = "adjust"
register_object_type(
    ObjectType(
        key="sales.forecast",
        label=_("Forecast"),
        actions=("view", ADJUST),
        defaults={
            "sales_manager": {"view": SUBTREE, ADJUST: SUBTREE},
            "sales_rep": {"view": OWN},
            "dealer_user": {"view": OWN},
            "analyst": {"view": ALL},
        },
    )
)
# Targets (quotas) are set from above: managers for their tree, administrators for all.
register_object_type(
    ObjectType(
        key="sales.target",
        label=_("Target"),
        actions=("view", "add", "change", "delete"),
        defaults={
            "sales_manager": {
                "view": SUBTREE,
                "add": SUBTREE,
                "change": SUBTREE,
                "delete": SUBTREE,
            },
            "sales_rep": {"view": OWN},
            "dealer_user": {"view": OWN},
            "analyst": {"view": ALL},
        },
    )
)
