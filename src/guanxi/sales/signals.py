"""Signals of the sales app: how the parts that work on leads hear of each other.

``lead_creating`` is sent just before the transaction that writes the lead (inside the
caller's when there is one); the others inside it, so a receiver's writes commit or roll
back with the lead.
"""

from django.dispatch import Signal

# A lead is about to be inserted (any single-lead path: web form, API, by hand, business
# cards). Arguments: ``lead`` (not saved: no primary key yet), ``actor`` (the user, or None
# for a public web form). Receivers score it, assign it and set its follow-up time on the instance, so that the lead
# and its "created" history record are written once, as they will stay.
lead_creating = Signal()

# A lead was created (sent after ``lead_creating``, once it is saved). Arguments: ``lead``,
# ``actor``. Receivers write what needs the lead's row: the assignment's audit event, the new
# owner's notification.
lead_created = Signal()

# Many leads were created together (``leads.created_together``: an import's batch, bulk
# intake). Arguments: ``leads`` (saved, in order), ``actor``. Sent instead of ``lead_created``
# for each; receivers do the same for all of them at once.
leads_created = Signal()

# A lead was touched for the first time by its owner (a call, an e-mail or a status change
# logged on it); ``lead.first_touched_at`` is set. Arguments: ``lead``, ``actor``.
lead_first_touched = Signal()
