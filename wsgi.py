"""Production entry point: ``python wsgi.py`` (or ``gunicorn -k gevent wsgi:app``).

Monkey-patching must happen before any other import, so this module reads the
async mode straight from the environment first.
"""

import os

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")

if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    try:
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
    except ImportError:  # pragma: no cover - psycopg2 is optional on SQLite
        pass
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    try:
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    except ImportError:  # pragma: no cover
        pass

import gc  # noqa: E402
import sys  # noqa: E402

from config import ConfigurationError  # noqa: E402
from webapp import create_app  # noqa: E402

try:
    app = create_app()
except ConfigurationError as exc:
    # One line an operator can act on, not a traceback.
    print(f"switchboard: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

# Everything loaded so far lives as long as the process: keep it out of the
# collector's full passes, which otherwise rescan it every few hundred connects
# (~0.2 s each, a third of the CPU of a connect storm; docs/profiles/connect.md).
# Before a fork (gunicorn) this also keeps those pages shared.
gc.freeze()


def serve() -> None:
    """Serve with the async mode's own WSGI server on $HOST:$PORT."""
    host = app.config["HOST"]
    port = app.config["PORT"]
    backlog = app.config["LISTEN_BACKLOG"]
    # eventlet's server stops accepting at 1,024 connections by default.
    max_connections = app.config["MAX_CONNECTIONS"]
    sio = app.extensions["socketio"]
    mode = sio.async_mode
    if mode in ("eventlet", "gevent"):
        # Full collections on a timer, not every few hundred connects.
        from webapp.realtime.collector import start_full_collections

        start_full_collections(sio)
    app.logger.info("Switchboard listening on http://%s:%s (%s)", host, port, mode)
    if mode == "eventlet":
        import eventlet.wsgi

        from webapp.engine.lean_http import lean_http_protocol

        listener = eventlet.listen((host, port), backlog=backlog)
        eventlet.wsgi.server(
            listener,
            app,
            max_size=max_connections,
            log_output=False,
            debug=False,
            # No write buffer or parsed headers kept for a websocket's lifetime.
            protocol=lean_http_protocol(),
        )
    elif mode == "gevent":
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIServer

        server = WSGIServer(
            (host, port), app, spawn=Pool(max_connections), backlog=backlog, log=None
        )
        server.serve_forever()
    else:
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True)


if __name__ == "__main__":
    serve()
