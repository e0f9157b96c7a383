"""The sockets' machine-readable contract: an AsyncAPI 3.0 document at /asyncapi.json.

``catalog`` says what the namespaces carry besides the event registry (client events,
acks, connect, welcome, replay); ``document`` builds the AsyncAPI document from both;
``views`` serves it. docs/protocol.md is rendered from the same document.
"""
