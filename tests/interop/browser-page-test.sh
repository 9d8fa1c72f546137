#!/usr/bin/env bash
# browser-page-test.sh — the browser client's page as a user gets it: an onionmesh BridgeRelay on
# a tools/testnet network (three Debian tor authorities, two tor relays) serving the page from
# its WebSocket port (WebSocketWebRoot = tools/build-web's output, under WebSocketPath /tor), and
# Debian's chromium (playwright-core, browser-page-test.mjs) opening
# http://BRIDGE/tor/?fetch=URL: the page reads onionmesh.json, bootstraps (consensus verified
# against the bridge's authorities, path chosen), fetches a 4 MiB file over bridge -> tor relay
# -> tor exit and writes its SHA-256, byte count and circuit into #sha256, #bytes, #circuit;
# with no CSP violation and no page error. Also: the page's response carries the CSP without
# 'unsafe-eval', and a refused fetch fills #error. Usage: browser-page-test.sh [BUILD]
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
head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/file.bin"
HTTP_PORT=$(free_port)
python3 tests/interop/http_fixture.py "$HTTP_PORT" "$WORK/file.bin" >"$WORK/http.log" 2>&1 &
PIDS="$PIDS $!"
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
node tests/interop/browser-page-test.mjs "$PAGE" "http://127.0.0.1:$HTTP_PORT/file" \
    "$(sha256sum "$WORK/file.bin" | cut -d' ' -f1)" "$(stat -c %s "$WORK/file.bin")" \
    >"$WORK/node.out" 2>&1
RC=$?
cat "$WORK/node.out"
grep -q "^not ok" "$WORK/node.out" && FAILED=1
[ $RC = 0 ] || { FAILED=1; grep -q "^not ok" "$WORK/node.out" || notok "node_exit_status_$RC"; }
kill -0 "$OMPID" 2>/dev/null && ok "bridge_still_running" || notok "bridge_still_running"
exit $FAILED
