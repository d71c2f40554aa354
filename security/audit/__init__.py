"""The tamper-evident audit trail (issue 13 item 6; docs/architecture.md: security).

- ``events``: the registry of event type names (unknown names are refused);
- ``models``: the records, the one-row chain head, the signed checkpoints;
- ``trail``: ``record`` — one hash-chained record in the caller's transaction;
- ``checkpoints``: signed checkpoints of (record count, head hash), exported beside the lake;
- ``verify``: re-computes the chain and the checkpoints, naming the first tampered record;
- ``search`` and ``purge``: what the auditor reads, and retention-respecting removal.
"""
