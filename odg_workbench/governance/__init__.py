"""Governance: decisions with RACI approvals and veto, Rego policies, a hash-chained audit
trail, durable events, and medallion promotion through quality gates and decisions.

Modules (each usable alone, all reached from a workspace)::

    audit.py        AuditLog: SHA-256 hash-chained, append-only audit trail in the state DB
    verify_audit.py stdlib-only verifier of an exported chain (no workbench needed)
    eventlog.py     EventLog: durable topics with subscriber offsets in the state DB
    transports.py   NATS JetStream and Kafka publishers behind one interface
    policy.py       PolicyEngine: Rego policies (regopy), shipped in policies/, overridable
    raci.py         RACI assignments per domain and per dataset
    decisions.py    Decisions: create, approve, reject, veto, comment, escalate, expire
    promotion.py    promote(dataset, to=layer): gates, decisions, one Iceberg commit
"""
