#!/usr/bin/env bash
# browser-fetch-test.sh — the browser client's fetch over 3 hops in Debian's chromium: a
# tools/testnet network (three Debian tor authorities, two tor relays, both exits to
# 127.0.0.0/8), an onionmesh BridgeRelay with a WebSocketPort, http_fixture.py serving a 4 MiB
# random file on 127.0.0.1 (Content-Length and chunked), and browser-fetch-test.mjs driving
# chromium through playwright-core: bridge -> tor relay -> tor exit, SHA-256 and byte count of
# both bodies, the exit being the tor relay that connected, the exit-policy refusal, and a new
# circuit after newIdentity. Without chromium or node_modules (npm ci) the test fails.
# Prints "ok - ..." / "not ok - ...". Usage: browser-fetch-test.sh [BUILD]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OM="$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-bfetch-XXXXXX)
NET="$WORK/net"
PIDS=""
FAILED=0
ok() { echo "ok - browser-fetch/$1"; }
notok() { echo "not ok - browser-fetch/$1${2:+: $2}"; FAILED=1; }

cleanup() {
    if [ "$FAILED" = 1 ] && [ -f "$WORK/om/info.log" ]; then
        grep -E "\[(warn|err)\]" "$WORK/om/info.log" | tail -10 | sed 's/^/# bridge: /'
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_BROWSER_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT
. tests/interop/testlib.sh
. tests/interop/browser_lib.sh

browser_prereqs "$OM" || exit 1

if ! tools/testnet up --dir "$NET" --tor-relays 2 --clients 0 >"$WORK/testnet.log" 2>&1; then
    notok testnet_up; tail -20 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"

# The HTTP server behind the exits.
head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/file.bin"
HTTP_PORT=$(free_port)
python3 tests/interop/http_fixture.py "$HTTP_PORT" "$WORK/file.bin" >"$WORK/http.log" 2>&1 &
PIDS="$PIDS $!"

# The onionmesh bridge: BridgeRelay with a WebSocketPort.
if start_ws_bridge "$OM" "$WORK/om" "$NET" ombfetch; then
    ok "bridge_up_with_consensus"
else
    notok "bridge_up_with_consensus"; tail -5 "$WORK/om/info.log" | sed 's/^/# /'; exit 1
fi
for _ in $(seq 1 50); do
    curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/none" -o /dev/null && break
    sleep 0.2
done

node tests/interop/browser-fetch-test.mjs "$NET/network.json" "$WORK/om/bridge-line" \
    "$HTTP_PORT" "$WORK/file.bin" >"$WORK/node.out" 2>&1
RC=$?
cat "$WORK/node.out"
grep -q "^not ok" "$WORK/node.out" && FAILED=1
[ $RC = 0 ] || { FAILED=1; grep -q "^not ok" "$WORK/node.out" || notok "node_exit_status_$RC"; }
kill -0 "$OMPID" 2>/dev/null && ok "bridge_still_running" || notok "bridge_still_running"
exit $FAILED
