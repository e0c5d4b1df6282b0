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
# Check-ins of field visits carry where a person was: seen like the visits themselves (own by
# default, a manager's tree) and made for visits the maker may check in on — by default
# only one's own, since a check-in says "I am there" (docs/field-sales.md).
register_object_type(
    ObjectType(
        key="sales.visit_check_in",
        label=_("Visit check-in"),
        actions=("view", "add"),
        fallback={"view": OWN, "add": OWN},
        defaults={
            "sales_manager": {"view": SUBTREE, "add": OWN},
            "service_manager": {"view": ALL, "add": OWN},
            "analyst": {"view": ALL},
        },
    )
)
# Leads (REQUIREMENTS §2.1): marketing captures them, the contact center takes them on the
# phone, sales works and converts them. A rep sees the team's leads and works their own; a
# manager works the tree's. Converting creates customers and a deal: an action of its own.
CONVERT = "convert"
register_object_type(
    ObjectType(
        key="sales.lead",
        label=_("Lead"),
        actions=("view", "add", "change", "delete", "assign", CONVERT),
        defaults={
            "sales_manager": {
                "view": SUBTREE,
                "add": ALL,
                "change": SUBTREE,
                "delete": SUBTREE,
                "assign": SUBTREE,
                CONVERT: SUBTREE,
            },
            "sales_rep": {"view": TEAM, "add": OWN, "change": OWN, CONVERT: OWN},
            "marketer": {"view": ALL, "add": ALL},
            "contact_center_agent": {"add": ALL},
            "analyst": {"view": ALL},
        },
    )
)
# The public web form's settings: marketing runs the forms, sales managers read them.
register_object_type(
    ObjectType(
        key="sales.webtoleadsettings",
        label=_("Web-to-lead form"),
        actions=("view", "change"),
        defaults={"marketer": {"view": ALL, "change": ALL}, "sales_manager": {"view": ALL}},
    )
)
# The catalogue is shaped by administrators and sales managers and read by everyone who
# sells. Dealers see products but not price books: those hold other dealers' prices.
register_object_type(
    ObjectType(
        key="sales.product",
        label=_("Product"),
        actions=("view", "add", "change", "delete"),
        defaults={
            "sales_manager": {"view": ALL, "add": ALL, "change": ALL, "delete": ALL},
            "sales_rep": {"view": ALL},
            "dealer_user": {"view": ALL},
            "marketer": {"view": ALL},
            "analyst": {"view": ALL},
        },
    )
)
register_object_type(
    ObjectType(
        key="sales.pricebook",
        label=_("Price book"),
        actions=("view", "add", "change", "delete"),
        defaults={
            "sales_manager": {"view": ALL, "add": ALL, "change": ALL, "delete": ALL},
            "sales_rep": {"view": ALL},
            "analyst": {"view": ALL},
        },
    )
)
# Quotes follow their opportunity's owner and team like the deals they price: a rep works on
# their own and sees the team's, a manager works on their tree's. Approving a discount above
# the owner's limit and sending to the customer are actions of their own.
register_object_type(
    ObjectType(
        key="sales.quote",
        label=_("Quote"),
        actions=("view", "add", "change", "delete", "approve", "send"),
        defaults={
            "sales_manager": {
                "view": SUBTREE,
                "add": ALL,
                "change": SUBTREE,
                "delete": SUBTREE,
                "approve": SUBTREE,
                "send": SUBTREE,
            },
            "sales_rep": {"view": TEAM, "add": OWN, "change": OWN, "delete": OWN, "send": OWN},
            "dealer_user": {"view": TEAM, "add": OWN, "change": OWN, "send": OWN},
            "marketer": {"view": ALL},
            "service_manager": {"view": ALL},
            "analyst": {"view": ALL},
        },
    )
)
# Lead routing (scoring rules, assignment rules, business hours, SLA policies) is shaped by
# administrators (all actions by default); sales managers read it to explain a lead's owner
# and score.
register_object_type(
    ObjectType(
        key="sales.leadrule",
        label=_("Lead routing rule"),
        actions=("view", "add", "change", "delete"),
        defaults={"sales_manager": {"view": ALL}},
    )
)
# Contact roles of a deal (who decides, who buys, who evaluates) are read and changed by whoever
# may read and change the deal: the same scopes, applied through the opportunity's owner and
# team. "add" and "delete" are the deal's "change".
register_object_type(
    ObjectType(
        key="sales.opportunitycontactrole",
        label=_("Opportunity contact role"),
        actions=("view", "add", "delete"),
        defaults={
            "sales_manager": {"view": SUBTREE, "add": SUBTREE, "delete": SUBTREE},
            "sales_rep": {"view": TEAM, "add": OWN, "delete": OWN},
            "dealer_user": {"view": TEAM, "add": OWN, "delete": OWN},
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
