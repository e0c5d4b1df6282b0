"""Lead routing: scoring, assignment rules and the follow-up SLA (REQUIREMENTS §2.1).

- ``calendar``: working-time arithmetic over business hours, holidays and make-up days
- ``config``: a workspace's rules compiled once and cached until they change
- ``scoring``: a lead's score and the reasons for it
- ``assignment``: who gets a lead (first matching rule, round robin, least loaded)
- ``services``: every write (rules, routing a lead, reassigning, the SLA sweep, rescoring)
- ``receivers``: what the sales signals ``lead_created`` and ``lead_first_touched`` do
"""
