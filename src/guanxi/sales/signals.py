"""Signals of the sales app: how the parts that work on leads hear of each other.

Both are sent inside the transaction that wrote the lead, so a receiver's writes commit or
roll back with it.
"""

from django.dispatch import Signal

# A lead was created (any channel: web form, import, API, by hand).
# Arguments: ``lead`` (saved), ``actor`` (the user, or None for a public web form).
# Receivers score it, assign it and set its follow-up time.
lead_created = Signal()

# Many leads were created together (``leads.created_together``: an import's batch, bulk
# intake). Arguments: ``leads`` (saved, in order), ``actor``. Sent instead of ``lead_created``
# for each; receivers do the same for all of them at once.
leads_created = Signal()

# A lead was touched for the first time by its owner (a call, an e-mail or a status change
# logged on it); ``lead.first_touched_at`` is set. Arguments: ``lead``, ``actor``.
lead_first_touched = Signal()
