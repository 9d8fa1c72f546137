#!/usr/bin/env bash
# browser-link-test.sh — the browser client (src/bridge/web) in Debian's chromium against an
# onionmesh bridge: a tools/testnet network of Debian tor (three authorities, one relay), an
# onionmesh BridgeRelay with a WebSocketPort whose line (DataDirectory/bridge-line) the client
# is given, and tests/interop/browser-link-test.mjs driving chromium through playwright-core.
# While it runs, every distinct microdesc consensus the authorities serve is saved (curl from
# their DirPorts, named by SHA-256) so the browser's copy can be compared with them.
# Then ntor-v3: a fetch of a random file (tests/interop/http_fixture.py) over bridge -> tor relay
# -> tor exit (Debian tor 0.4.9, relay1 a middle, relay0 the exit) built with CREATE2/EXTEND2
# htype 3 on every hop that offers Relay=4, once more with ntor forced; each tor relay gets a
# MetricsPort (added to its torrc, SIGHUP) so that its own count of ntor-v3 and ntor onionskins
# (tor_relay_load_onionskins_total) shows what it processed.
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

if ! tools/testnet up --dir "$NET" --tor-relays 2 --exits 1 --clients 0 \
    >"$WORK/testnet.log" 2>&1; then
    notok testnet_up; tail -20 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
AUTH_DIRS=$(python3 -c "import json
print(' '.join(str(a['dir_port']) for a in json.load(open('$NET/network.json'))['authorities']))")

# A MetricsPort on each tor relay (torrc + SIGHUP), for its onionskin counts by handshake type;
# writes "nickname exit(0/1) metrics-url" lines.
python3 - "$NET/network.json" >"$WORK/relays.txt" <<'PY' || notok relay_metrics_ports
import json, os, signal, socket, sys
for r in json.load(open(sys.argv[1]))["relays"]:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    with open(r["torrc"], "a") as f:
        f.write(f"MetricsPort 127.0.0.1:{port}\nMetricsPortPolicy accept 127.0.0.1\n")
    os.kill(r["pid"], signal.SIGHUP)
    print(r["nickname"], int(bool(r.get("exit"))), f"http://127.0.0.1:{port}/metrics")
PY
sed 's/^/# tor relay: /' "$WORK/relays.txt"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$WORK/file.bin"
HTTP_PORT=$(free_port)
python3 tests/interop/http_fixture.py "$HTTP_PORT" "$WORK/file.bin" >"$WORK/http.log" 2>&1 &
PIDS="$PIDS $!"
export OM_NTOR3_URL="http://127.0.0.1:$HTTP_PORT/file"
export OM_NTOR3_SHA256=$(sha256sum "$WORK/file.bin" | cut -d' ' -f1)
export OM_NTOR3_BYTES=$(stat -c %s "$WORK/file.bin")
export OM_NTOR3_RELAYS="$WORK/relays.txt"

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
# The bridge's side of the forged-identity ntor-v3 CREATE2 (browser-link-test.mjs): refused as
# an ntor-v3 handshake for another identity.
if grep -q "CREATE2 .* refused: ntor-v3 handshake failed" "$WORK/om/info.log"; then
    ok "bridge_logged_ntor3_refusal ($(grep -m1 -o "refused: ntor-v3 handshake failed[^)]*)" \
        "$WORK/om/info.log"))"
else
    notok "bridge_logged_ntor3_refusal"
fi
kill -0 "$OMPID" 2>/dev/null && ok "bridge_still_running" || notok "bridge_still_running"
exit $FAILED
