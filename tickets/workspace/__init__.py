"""The engineer's workspace inside the admin: the queue and the ticket page.

``tickets.admin`` hands its changelist and change form to the views here; the
rules stay in ``tickets.services`` (single-ticket writes) and ``bulk`` (the queue's
bulk actions, one service call and one audit row per ticket). See docs/workspace.md.
"""
