"""Object types of the customer master and what the default roles may do with them.

Customer data belongs to the company (REQUIREMENTS §1): everyone who serves customers can
find them; changing, reassigning and exporting follow the sales hierarchy.
"""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.permissions import ObjectType, Scope, register_object_type

ALL, SUBTREE, TEAM, OWN = Scope.ALL.value, Scope.SUBTREE.value, Scope.TEAM.value, Scope.OWN.value

CUSTOMER_DEFAULTS = {
    "sales_manager": {
        "view": ALL,
        "add": ALL,
        "change": SUBTREE,
        "delete": SUBTREE,
        "export": SUBTREE,
        "assign": SUBTREE,
    },
    "sales_rep": {"view": TEAM, "add": OWN, "change": OWN, "export": OWN},
    "marketer": {"view": ALL, "add": ALL, "change": ALL, "export": ALL},
    "service_manager": {"view": ALL, "add": ALL, "change": ALL, "export": ALL, "assign": ALL},
    "service_agent": {"view": ALL, "add": ALL, "change": ALL},
    "contact_center_agent": {"view": ALL, "add": ALL, "change": ALL},
    "dealer_user": {"view": TEAM, "add": OWN, "change": TEAM},
    "analyst": {"view": ALL, "export": ALL},
}

for key, label in (("customers.account", _("Account")), ("customers.contact", _("Contact"))):
    register_object_type(ObjectType(key=key, label=label, defaults=CUSTOMER_DEFAULTS))

register_object_type(
    ObjectType(
        key="customers.lifecyclestage",
        label=_("Lifecycle stage"),
        actions=("view", "add", "change", "delete"),
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="customers.importjob",
        label=_("Import"),
        actions=("view", "add", "change"),
        # one's own imports; running one also needs "add" on what it brings in
        fallback={"view": OWN, "add": OWN, "change": OWN},
    )
)
register_object_type(
    ObjectType(
        key="customers.merge",
        label=_("Merge"),
        actions=("view", "change"),
        # merging needs "change" on every contact involved; the record is its author's
        fallback={"view": OWN, "change": OWN},
    )
)
register_object_type(
    ObjectType(
        key="customers.importtemplate",
        label=_("Import template"),
        actions=("view", "add", "change", "delete"),
        # one's own templates; shared ones are offered to everyone who may import
        fallback={"view": OWN, "add": OWN, "change": OWN, "delete": OWN},
    )
)
register_object_type(
    ObjectType(
        key="customers.exportjob",
        label=_("Export file"),
        actions=("view", "add"),
        # the file is its author's, administrators' too; what goes into it follows "export"
        # on the customers
        defaults={"administrator": {"view": OWN, "add": OWN}},
        fallback={"view": OWN, "add": OWN},
    )
)
DATA_STEWARDS = {"sales_manager", "marketer", "service_manager"}
register_object_type(
    ObjectType(
        key="customers.deduperun",
        label=_("Duplicate scan"),
        actions=("view", "add"),
        defaults={role: {"view": ALL, "add": ALL} for role in DATA_STEWARDS},
    )
)
register_object_type(
    ObjectType(
        key="customers.duplicatepair",
        label=_("Possible duplicate"),
        actions=("view", "change"),
        # reviewing also needs the contacts: both visible, "change" on both to merge
        defaults={role: {"view": ALL, "change": ALL} for role in DATA_STEWARDS},
    )
)
register_object_type(
    ObjectType(
        key="customers.identitysettings",
        label=_("Duplicate rules"),
        actions=("view", "change"),
        defaults={role: {"view": ALL} for role in DATA_STEWARDS},
    )
)
