#!/usr/bin/env bash
# browser-link-test.sh — the browser client (src/bridge/web) in Debian's chromium against an
# onionmesh bridge: a tools/testnet network of Debian tor (three authorities, one relay), an
# onionmesh BridgeRelay with a WebSocketPort whose line (DataDirectory/bridge-line) the client
# is given, and tests/interop/browser-link-test.mjs driving chromium through playwright-core.
# While it runs, every distinct microdesc consensus the authorities serve is saved (curl from
# their DirPorts, named by SHA-256) so the browser's copy can be compared with them.
# Without chromium or node_modules (npm ci) the test fails. Prints "ok - ..." / "not ok - ...".
# Usage: browser-link-test.sh [BUILD]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OM="$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-browser-XXXXXX)
NET="$WORK/net"
PIDS=""
FAILED=0
ok() { echo "ok - browser/$1"; }
notok() { echo "not ok - browser/$1${2:+: $2}"; FAILED=1; }

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

if ! tools/testnet up --dir "$NET" --tor-relays 1 --clients 0 >"$WORK/testnet.log" 2>&1; then
    notok testnet_up; tail -20 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
AUTH_DIRS=$(python3 -c "import json
print(' '.join(str(a['dir_port']) for a in json.load(open('$NET/network.json'))['authorities']))")

# Every microdesc consensus the authorities serve from now on, one file per SHA-256.
mkdir "$WORK/auth"
(
    while :; do
        for p in $AUTH_DIRS; do
            if curl -sf --max-time 5 -o "$WORK/auth/tmp.$p" \
                "http://127.0.0.1:$p/tor/status-vote/current/consensus-microdesc"; then
                mv "$WORK/auth/tmp.$p" "$WORK/auth/$(sha256sum "$WORK/auth/tmp.$p" | cut -d' ' -f1)"
            fi
        done
        sleep 1
    done
) &
PIDS="$PIDS $!"

# The onionmesh bridge: BridgeRelay with a WebSocketPort.
if start_ws_bridge "$OM" "$WORK/om" "$NET" ombrowser; then
    ok "bridge_up_with_consensus"
    grep "^Bridge websocket " "$WORK/om/bridge-line" | sed 's/^/# /'
else
    notok "bridge_up_with_consensus"; tail -5 "$WORK/om/info.log" | sed 's/^/# /'; exit 1
fi
sleep 2

node tests/interop/browser-link-test.mjs "$WORK/om/bridge-line" "$WORK/auth" >"$WORK/node.out" 2>&1
RC=$?
cat "$WORK/node.out"
grep -q "^not ok" "$WORK/node.out" && FAILED=1
[ $RC = 0 ] || { FAILED=1; grep -q "^not ok" "$WORK/node.out" || notok "node_exit_status_$RC"; }
kill -0 "$OMPID" 2>/dev/null && ok "bridge_still_running" || notok "bridge_still_running"
exit $FAILED
