#!/usr/bin/env bash
# browser-page-test.sh — the browser client's page as a user gets it: an onionmesh BridgeRelay on
# a tools/testnet network (three Debian tor authorities, two tor relays) serving the page from
# its WebSocket port (WebSocketWebRoot = tools/build-web's output, under WebSocketPath /tor), and
# Debian's chromium (playwright-core, browser-page-test.mjs) opening
# http://BRIDGE/tor/?fetch=URL: the page reads onionmesh.json, bootstraps (consensus verified
# against the bridge's authorities, path chosen), fetches a 1 MiB and a 20 MiB file over bridge
# -> tor relay -> tor exit (one page load each) and writes their SHA-256, byte count and circuit
# into #sha256, #bytes, #circuit; with no CSP violation and no page error. Also: the page's
# response carries the CSP without 'unsafe-eval'; a closed port gives a "could not connect"
# error; ?bridge= with a wrong fingerprint fails visibly at CERTS; and with one tor exit relay
# killed (still listed in the consensus) fetches succeed through another path after a failed
# circuit attempt, never through the dead relay. Usage: browser-page-test.sh [BUILD]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OM="$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-bpage-XXXXXX)
NET="$WORK/net"
PIDS=""
FAILED=0
ok() { echo "ok - browser-page/$1"; }
notok() { echo "not ok - browser-page/$1${2:+: $2}"; FAILED=1; }

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_BROWSER_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT
. tests/interop/testlib.sh
. tests/interop/browser_lib.sh

browser_prereqs "$OM" || exit 1
if node tools/build-web "$WORK/web" >"$WORK/build-web.log" 2>&1; then
    ok "build_web ($(cat "$WORK/build-web.log"))"
else
    notok "build_web" "$(tail -2 "$WORK/build-web.log")"; exit 1
fi
if ! tools/testnet up --dir "$NET" --tor-relays 2 --clients 0 >"$WORK/testnet.log" 2>&1; then
    notok testnet_up; tail -20 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
# Two files, each behind its own http_fixture.py (it serves one file, as /file).
FILES=""
for MB in 1 20; do
    head -c $((MB * 1024 * 1024)) /dev/urandom >"$WORK/file$MB.bin"
    PORT=$(free_port)
    python3 tests/interop/http_fixture.py "$PORT" "$WORK/file$MB.bin" >"$WORK/http$MB.log" 2>&1 &
    PIDS="$PIDS $!"
    SUM=$(sha256sum "$WORK/file$MB.bin" | cut -d' ' -f1)
    FILES="$FILES{\"name\": \"${MB}MiB\", \"url\": \"http://127.0.0.1:$PORT/file\","
    FILES="$FILES \"sha256\": \"$SUM\", \"bytes\": \"$(stat -c %s "$WORK/file$MB.bin")\"},"
done
if WS_BRIDGE_EXTRA="WebSocketWebRoot $WORK/web" start_ws_bridge "$OM" "$WORK/om" "$NET" ompage; then
    ok "bridge_up_with_consensus"
else
    notok "bridge_up_with_consensus"; tail -5 "$WORK/om/info.log" | sed 's/^/# /'; exit 1
fi
WS_PORT=$(sed -n 's/^WebSocketPort 127.0.0.1://p' "$WORK/om/torrc")
PAGE="http://127.0.0.1:$WS_PORT/tor/"
HDRS=$(curl -s -D - -o /dev/null --max-time 10 "$PAGE")
if echo "$HDRS" | grep -qi "^content-security-policy: default-src 'self'" &&
    ! echo "$HDRS" | grep -qi "unsafe-eval"; then
    ok "page_served_with_csp"
else
    notok "page_served_with_csp" "$(echo "$HDRS" | head -3 | tr -d '\r')"
fi
cat >"$WORK/spec.json" <<EOF
{"files": [${FILES%,}], "closedUrl": "http://127.0.0.1:$(free_port)/",
 "bridgeLine": "$(grep -m1 '^Bridge websocket ' "$WORK/om/bridge-line")", "network": "$NET/network.json"}
EOF
T0=$(date +%s)
node tests/interop/browser-page-test.mjs "$PAGE" "$WORK/spec.json" >"$WORK/node.out" 2>&1
RC=$?
cat "$WORK/node.out"
echo "# browser part: $(($(date +%s) - T0)) s"
grep -q "^not ok" "$WORK/node.out" && FAILED=1
[ $RC = 0 ] || { FAILED=1; grep -q "^not ok" "$WORK/node.out" || notok "node_exit_status_$RC"; }
kill -0 "$OMPID" 2>/dev/null && ok "bridge_still_running" || notok "bridge_still_running"
exit $FAILED
