"""Webhooks: tell a tenant's HTTP endpoints what happens on the sockets.

``registry`` manages endpoints, ``outbox`` persists deliveries (in the publishing
transaction for ``event.published``), ``sender`` attempts them from every serving
process, one process per webhook at a time (a lease on the webhook row),
``signer`` signs bodies and ``address_guard`` refuses private targets.
See docs/webhooks.md.
"""
