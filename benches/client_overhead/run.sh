#!/usr/bin/env bash
# Client overhead: ballchasing-api against python-ballchasing 0.5.4 (installed from PyPI into
# a venv under target/), both uploading the same 1 MB replay to one local server process.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet python-ballchasing==0.5.4
fi
cargo build --quiet --release -p ballchasing-api --example upload_loop
exec 3< <("$venv/bin/python" benches/client_overhead/server.py)
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
read -r port <&3
"$venv/bin/python" benches/client_overhead/measure.py "http://127.0.0.1:$port" \
    tests/fixtures/good/soccar-lan.replay target/release/examples/upload_loop "$venv/bin/python"
