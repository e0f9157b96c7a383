"""The engine seam: the only code touching python-socketio/engineio internals.

Everything else uses the libraries' public API or these modules' functions:

- ``sockets``: local-or-remote checks, a connection's send queue, closing a
  transport, sending to one connection (what services and namespaces call);
- ``server``: ``SwitchboardServer``, the contract's checks in the Socket.IO hooks;
- ``transport``: ``EdgeEngineIO``: counted send queues, closes that never block;
  ``packets`` and ``websocket``: engine.io packet and websocket frame checks;
- ``lean`` / ``lean_http``: idle websockets without writer or ping greenthreads,
  eventlet's HTTP protocol without per-connection buffers;
- ``delivery`` / ``frames``: fan-out written straight into idle websockets, each
  packet's frame built once;
- ``environ``: what a connection keeps of its WSGI environ;
- ``gate``: the replay gate; ``managers`` / ``cluster_manager``: the client
  managers (in-memory and Redis) that pass deliveries through it;
- ``connect_deadline``: transports that must connect a namespace in time.

Every private name used here is checked at the pinned versions by
``tests/unit/test_engine_hooks.py``; ``tests/unit/test_engine_seam.py`` fails when
code outside this package uses one.
"""
