"""Every event type's declaration, one module per namespace.

Each module lists its namespace's ``EventType``s in order; ``webapp.event_registry``
registers them (that order is the order of the AsyncAPI document and
``docs/protocol.md``). Each module is owned by that namespace's feature; keep one
declaration per (namespace, name).
"""
