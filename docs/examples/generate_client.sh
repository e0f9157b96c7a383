#!/bin/sh
# Generate a typed Python client for Switchboard's REST API from a running server's
# /openapi.json, with openapi-python-client (pip install openapi-python-client).
#
#   docs/examples/generate_client.sh [BASE_URL] [OUTPUT_DIR]
#
# OUTPUT_DIR (default ./switchboard_client) becomes an importable package:
#
#   from switchboard_client import AuthenticatedClient, Client
#   from switchboard_client.api.auth import auth_login
#   from switchboard_client.models import LoginBody
#   tokens = auth_login.sync(client=Client(base_url=URL), body=LoginBody(email=..., password=...))
#   api = AuthenticatedClient(base_url=URL, token=tokens.access_token)
#
# tests/clients/test_generated_python_client.py runs this script against a live server and uses the result.
set -eu
BASE_URL=${1:-http://127.0.0.1:5000}
OUTPUT_DIR=${2:-switchboard_client}
GENERATOR=${OPENAPI_PYTHON_CLIENT:-openapi-python-client}

# --meta none: just the package (no pyproject); --overwrite: regenerate in place.
"$GENERATOR" generate --url "$BASE_URL/openapi.json" --meta none \
  --output-path "$OUTPUT_DIR" --overwrite
