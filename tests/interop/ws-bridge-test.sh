#!/usr/bin/env bash
# ws-bridge-test.sh — an onionmesh relay with ORPort and WebSocketPort in a private network of
# Debian tor 0.4.9 (tools/testnet: three authorities, two tor exit relays). Through a ws:// link
# to the onionmesh relay (build/om-ws-bridge-client, the engine's API: CERTS checked against the
# pinned fingerprint, CREATE2 ntor to the bridge's key as its descriptor publishes it), the
# consensus and microdescriptors are fetched with BEGIN_DIR from the bridge, and a file is
# fetched byte-exact over bridge -> tor relay -> tor exit. Meanwhile a tor client uses the same
# onionmesh relay through its ORPort (Bridge line, UseBridges), and a faulty WebSocket (text
# message) is closed alone. Prints "ok - ..." / "not ok - ...". Usage: ws-bridge-test.sh [BUILD]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OM="$BUILD/onionmesh"
CLIENT="$BUILD/tests/om-ws-bridge-client"
WORK=$(mktemp -d /tmp/om-wsbridge-XXXXXX)
NET="$WORK/net"
BIG_MB=${OM_WSBRIDGE_BIG_MB:-20}
PIDS=""
FAILED=0
ok() { echo "ok - ws-bridge/$1"; }
notok() { echo "not ok - ws-bridge/$1${2:+: $2}"; FAILED=1; }

cleanup() {
    if [ "$FAILED" = 1 ] && [ -f "$WORK/om/info.log" ]; then
        grep -E "\[(warn|err)\]" "$WORK/om/info.log" | tail -10 | sed 's/^/# omrelay: /'
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_WSBRIDGE_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT
. tests/interop/testlib.sh
jq_net() { python3 -c "import json;n=json.load(open('$NET/network.json'));print($1)"; }

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 2 --clients 0 \
    --authority-option "AuthDirVoteStableGuaranteeMinUptime 0" >"$WORK/testnet.log" 2>&1; then
    notok testnet_up; tail -20 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
AUTH_DIR=$(jq_net "n['authorities'][0]['dir_port']")
FP_A=$(jq_net "n['relays'][0]['fingerprint']")
FP_B=$(jq_net "n['relays'][1]['fingerprint']")

# The onionmesh relay: ORPort and a WebSocketPort with a secret path.
OR_PORT=$(free_port)
WS_PORT=$(free_port)
mkdir -m 700 "$WORK/om"
{
    echo "DataDirectory $WORK/om"
    echo "TestingTorNetwork 1"
    echo "Nickname omws"
    echo "Address 127.0.0.1"
    echo "ORPort 127.0.0.1:$OR_PORT"
    echo "WebSocketPort 127.0.0.1:$WS_PORT"
    echo "WebSocketPath /tor-s3cret"
    echo "WebSocketTrustForwardedFor 1"
    echo "DoSConnectionEnabled 1"
    echo "DoSConnectionMaxConcurrentCount 4"
    echo "AssumeReachable 1"
    echo "Log info file $WORK/om/info.log"
    echo "SafeLogging 0"
    cat "$NET/dirauth-lines"
} >"$WORK/om/torrc"
"$OM" -f "$WORK/om/torrc" >"$WORK/om/stdout.log" 2>&1 &
PIDS="$PIDS $!"
OMPID=$!
for _ in $(seq 1 60); do [ -f "$WORK/om/fingerprint" ] && break; sleep 0.5; done
OM_FP=$(cut -d' ' -f2 "$WORK/om/fingerprint" 2>/dev/null)
listening() {
    grep -q "Accepting Tor links over WebSockets on ws://127.0.0.1:$WS_PORT/tor-s3cret" \
        "$WORK/om/info.log" "$WORK/om/stdout.log" 2>/dev/null
}
for _ in $(seq 1 40); do listening && break; sleep 0.5; done
if listening; then ok "websocket_port_listening"; else
    notok "websocket_port_listening"; exit 1; fi

# Its ntor key as its descriptor (signed by the pinned identity) gives it, from an authority.
NTOR=""
for _ in $(seq 1 120); do
    NTOR=$(curl -s --max-time 5 "http://127.0.0.1:$AUTH_DIR/tor/server/fp/$OM_FP" |
        awk '/^ntor-onion-key /{print $2}')
    [ -n "$NTOR" ] && break
    sleep 1
done
[ -n "$NTOR" ] && ok "descriptor_published" || { notok "descriptor_published"; exit 1; }
# The bridge's directory cache must hold a consensus listing the tor relays.
for _ in $(seq 1 120); do
    grep -qE "consensus|Consensus" "$WORK/om/info.log" 2>/dev/null && break
    sleep 1
done
sleep 5

serve_www "$WORK/www" "ws bridge" "$BIG_MB" 1 || { notok "http_server"; exit 1; }
WANT=$(sha256sum "$WORK/www/big.bin" | cut -d' ' -f1)

# A tor client through the same relay's ORPort at the same time (tor's bridge client).
TP=$(free_port)
mkdir -m 700 "$WORK/torc"
{
    echo "DataDirectory $WORK/torc"; echo "TestingTorNetwork 1"; echo "SocksPort 127.0.0.1:$TP"
    echo "UseBridges 1"; echo "Bridge 127.0.0.1:$OR_PORT $OM_FP"; echo "SafeLogging 0"
    echo "Log notice file $WORK/torc/notice.log"; echo "PathsNeededToBuildCircuits 0.67"
    cat "$NET/dirauth-lines"
} >"$WORK/torc/torrc"
tor -f "$WORK/torc/torrc" --defaults-torrc /dev/null >/dev/null 2>&1 &
PIDS="$PIDS $!"

URL="ws://127.0.0.1:$WS_PORT/tor-s3cret"
"$CLIENT" "$URL" "$OM_FP" "$NTOR" "$FP_A" "$FP_B" "$HTTP_PORT" /big.bin >"$WORK/client.out" \
    2>"$WORK/client.err" &
CPID=$!
# A faulty WebSocket from 127.0.0.2 while the download runs, behind a "proxy" that says the
# client is 198.51.100.7: a text message closes that connection only, and the relay saw the
# forwarded address (WebSocketTrustForwardedFor 1; what its DoS accept filter is given).
sleep 2
python3 - "$WS_PORT" >"$WORK/fault.out" 2>&1 <<'PY'
import socket, sys, os
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5,
                             source_address=("127.0.0.2", 0))
s.sendall(b"GET /tor-s3cret HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"X-Forwarded-For: 10.9.9.9, 198.51.100.7\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Protocol: tor-cells.onionmesh\r\n\r\n")
r = s.recv(4096)
assert r.startswith(b"HTTP/1.1 101"), r[:40]
m = os.urandom(4); p = b"hello"
s.sendall(bytes([0x81, 0x80 | len(p)]) + m + bytes(c ^ m[i % 4] for i, c in enumerate(p)))
d = s.recv(4096)
print("closed" if d == b"" or (d[0] & 0x0f) == 8 else "open")
PY
grep -q closed "$WORK/fault.out" && ok "text_message_closes_only_that_link" ||
    notok "text_message_closes_only_that_link" "$(cat "$WORK/fault.out")"
grep -q "WebSocket link from 198.51.100.7:0" "$WORK/om/info.log" &&
    ok "client_address_from_trusted_x_forwarded_for" ||
    notok "client_address_from_trusted_x_forwarded_for"
wait "$CPID"
RC=$?
sed 's/^/# /' "$WORK/client.out"
if [ $RC = 0 ] && grep -qi "sha256 $WANT" "$WORK/client.out"; then
    ok "ws_bridge_to_tor_relay_to_tor_exit_${BIG_MB}MB_byte_exact"
else
    notok "ws_bridge_to_tor_relay_to_tor_exit_${BIG_MB}MB_byte_exact" "$(tail -3 "$WORK/client.err")"
fi
if wait_bootstrapped "$WORK/torc/notice.log" 240 &&
    [ "$(curl -s --max-time 120 --socks5-hostname "127.0.0.1:$TP" \
        "http://127.0.0.1:$HTTP_PORT/mid.bin" | sha256sum | cut -d' ' -f1)" = \
        "$(sha256sum "$WORK/www/mid.bin" | cut -d' ' -f1)" ]; then
    ok "tor_client_through_the_same_relay_orport"
else
    notok "tor_client_through_the_same_relay_orport"
fi
# The same path with the first link over the relay's TLS ORPort: the rate to compare with.
if "$CLIENT" "tls:$OR_PORT" "$OM_FP" "$NTOR" "$FP_A" "$FP_B" "$HTTP_PORT" /big.bin \
    >"$WORK/client-tls.out" 2>"$WORK/client-tls.err" &&
    grep -qi "sha256 $WANT" "$WORK/client-tls.out"; then
    ok "same_path_over_tls_orport_byte_exact"
    WS_R=$(grep -o '([0-9.]* MB/s)' "$WORK/client.out" | tr -d '()MB/s ')
    TLS_R=$(grep -o '([0-9.]* MB/s)' "$WORK/client-tls.out" | tr -d '()MB/s ')
    echo "# rate: WebSocket first link $WS_R MB/s, TLS first link $TLS_R MB/s," \
        "ratio $(python3 -c "print(round($WS_R / $TLS_R, 2))" 2>/dev/null)"
else
    notok "same_path_over_tls_orport_byte_exact" "$(tail -3 "$WORK/client-tls.err")"
fi
# tor's per-address connection limit (DoSConnectionMaxConcurrentCount, 4 here) holds for
# WebSocket links as for ORPort links: 8 WebSockets from 127.0.0.3, each upgraded and sending
# VERSIONS, then idle: 4 stay open, 4 are closed by the relay (127.0.0.1, the relays' own
# address, is exempt as tor exempts relay addresses: the downloads above and below share it).
python3 - "$WS_PORT" >"$WORK/wsdos.out" 2>&1 <<'PY'
import os, socket, struct, sys, time
socks = []
for i in range(8):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5,
                                 source_address=("127.0.0.3", 0))
    s.sendall(b"GET /tor-s3cret HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tor-cells.onionmesh\r\n\r\n")
    r = b""
    while b"\r\n\r\n" not in r:
        d = s.recv(4096)
        if not d:
            break
        r += d
    versions = struct.pack(">HBH", 0, 7, 6) + struct.pack(">HHH", 3, 4, 5)
    m = os.urandom(4)
    s.sendall(bytes([0x82, 0x80 | len(versions)]) + m +
              bytes(c ^ m[j % 4] for j, c in enumerate(versions)))
    socks.append(s)
time.sleep(3)
open_, closed = 0, 0
for s in socks:  # read what came (VERSIONS, CERTS, ...) until EOF or 2 s of silence
    s.settimeout(2)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed += 1
                break
    except socket.timeout:
        open_ += 1
    except OSError:
        closed += 1
print("wsdos: open %d closed %d" % (open_, closed))
PY
sed 's/^/# /' "$WORK/wsdos.out"
if grep -q "^wsdos: open 4 closed 4$" "$WORK/wsdos.out"; then
    ok "per_address_connection_limit_on_websocket_links"
else
    notok "per_address_connection_limit_on_websocket_links"
fi

# onionmesh's own OP with a Bridge line naming the WebSocket URL (UseBridges 1): the bridge's
# descriptor, the consensus and the microdescriptors come through the bridge, every circuit
# starts there with ntor (never CREATE_FAST: the line carries the ntor key), and the rest of the
# path comes from that consensus.
# The relay wrote that line to DataDirectory/bridge-line (and its log): the OP uses it as is.
WS_LINE=$(grep "^Bridge websocket " "$WORK/om/bridge-line" 2>/dev/null)
if [ "$WS_LINE" = "Bridge websocket 127.0.0.1:$WS_PORT $OM_FP url=$URL ntor-onion-key=$NTOR" ] &&
    grep -q "Your WebSocket bridge line .*: $WS_LINE" "$WORK/om/info.log"; then
    ok "bridge_line_file_names_the_websocket_url_and_key"
else
    notok "bridge_line_file_names_the_websocket_url_and_key" "got: $WS_LINE"
    WS_LINE="Bridge websocket 127.0.0.1:$WS_PORT $OM_FP url=$URL ntor-onion-key=$NTOR"
fi
OP_SOCKS=$(free_port)
mkdir -m 700 "$WORK/op"
{
    echo "DataDirectory $WORK/op"; echo "TestingTorNetwork 1"; echo "SocksPort 127.0.0.1:$OP_SOCKS"
    echo "UseBridges 1"; echo "$WS_LINE"
    echo "Log info file $WORK/op/info.log"; echo "SafeLogging 0"; echo "PathsNeededToBuildCircuits 0.67"
    cat "$NET/dirauth-lines"
} >"$WORK/op/torrc"
"$OM" -f "$WORK/op/torrc" >"$WORK/op/stdout.log" 2>&1 &
OPPID=$!
PIDS="$PIDS $OPPID"
native_op_via_ws_bridge() {
    wait_bootstrapped "$WORK/op/info.log" 240 "$OPPID" || { echo "# OP did not bootstrap"; return 1; }
    local t0 t1 got
    t0=$(date +%s.%N)
    got=$(curl -s --max-time 300 --socks5-hostname "127.0.0.1:$OP_SOCKS" \
        "http://127.0.0.1:$HTTP_PORT/big.bin" | sha256sum | cut -d' ' -f1)
    t1=$(date +%s.%N)
    echo "# native OP via ws:// bridge: $BIG_MB MB in $(python3 -c "print(round($t1-$t0,2))") s"
    grep -o "Circuit [0-9]* built: .*" "$WORK/op/info.log" | head -2 | sed 's/^/# /'
    [ "$got" = "$WANT" ] || return 1
    # every circuit starts at the bridge; no directory data from an authority; no CREATE_FAST
    grep -q "Circuit [0-9]* built: " "$WORK/op/info.log" &&
        ! grep -o "Circuit [0-9]* built: [^ ]*" "$WORK/op/info.log" | grep -vq "built: omws$" &&
        ! grep -qi "from authority" "$WORK/op/info.log"
}
check_native() {
    if native_op_via_ws_bridge; then ok "native_op_bridge_websocket_line_${BIG_MB}MB_byte_exact"
    else notok "native_op_bridge_websocket_line_${BIG_MB}MB_byte_exact" "$(grep -E '\[(warn|err)\]' "$WORK/op/info.log" | tail -3)"; fi
}
check_native

# A bridge restart mid-download: the download in flight ends short (its link went away), and the
# same OP's next request works through the restarted bridge (same DataDirectory: same keys).
restart_mid_download() {
    local cpid n0 got i
    curl -s --max-time 120 --limit-rate 2M --socks5-hostname "127.0.0.1:$OP_SOCKS" \
        "http://127.0.0.1:$HTTP_PORT/big.bin" -o "$WORK/partial.bin" &
    cpid=$!
    sleep 3
    n0=$(grep -c "Accepting Tor links over WebSockets" "$WORK/om/info.log")
    kill -TERM "$OMPID"
    for _ in $(seq 1 60); do kill -0 "$OMPID" 2>/dev/null || break; sleep 0.5; done
    "$OM" -f "$WORK/om/torrc" >>"$WORK/om/stdout.log" 2>&1 &
    OMPID=$!
    PIDS="$PIDS $OMPID"
    wait "$cpid"
    echo "# in flight when the bridge stopped: $(stat -c %s "$WORK/partial.bin" 2>/dev/null) of $((BIG_MB << 20)) bytes"
    [ "$(stat -c %s "$WORK/partial.bin" 2>/dev/null || echo 0)" -lt $((BIG_MB << 20)) ] || return 1
    for _ in $(seq 1 60); do
        [ "$(grep -c "Accepting Tor links over WebSockets" "$WORK/om/info.log")" -gt "$n0" ] && break
        sleep 0.5
    done
    for i in $(seq 1 12); do
        got=$(curl -s --max-time 30 --socks5-hostname "127.0.0.1:$OP_SOCKS" \
            "http://127.0.0.1:$HTTP_PORT/mid.bin" | sha256sum | cut -d' ' -f1)
        if [ "$got" = "$(sha256sum "$WORK/www/mid.bin" | cut -d' ' -f1)" ]; then
            echo "# next request after the restart: byte-exact (attempt $i)"
            return 0
        fi
        sleep 5
    done
    return 1
}
if restart_mid_download; then ok "op_survives_bridge_restart_mid_download"
else notok "op_survives_bridge_restart_mid_download" "$(grep -E '\[(warn|err)\]' "$WORK/op/info.log" | tail -3)"; fi
kill "$OPPID" 2>/dev/null

# The bridge serves its own signed descriptor over plain HTTP on the WebSocket port, under
# WebSocketPath (tor's /tor/server/authority): the same ntor key the authority has.
HTTP_URL="http://127.0.0.1:$WS_PORT/tor-s3cret/tor/server/authority"
DESC=$(curl -s --max-time 10 "$HTTP_URL")
if printf '%s\n' "$DESC" | grep -q "^ntor-onion-key $NTOR" &&
    printf '%s\n' "$DESC" | grep -q "^router-signature$" &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$WS_PORT/tor/server/authority")" = 404 ]; then
    ok "descriptor_served_under_websocket_path"
else
    notok "descriptor_served_under_websocket_path" "$(printf '%s' "$DESC" | head -c 200)"
fi
# Two more OPs whose Bridge websocket lines lack the ntor key, or carry a stale one (another
# relay's key, as after the bridge rotated its key): each learns the key from that descriptor,
# only after checking its signature against the pinned fingerprint, then fetches byte-exact.
STALE=$(curl -s --max-time 5 "http://127.0.0.1:$AUTH_DIR/tor/server/fp/$FP_A" |
    sed -n 's/^ntor-onion-key //p' | head -1)
start_variant_op() { # NAME BRIDGE-LINE
    local d="$WORK/op-$1" port
    port=$(free_port)
    mkdir -m 700 "$d"
    {
        echo "DataDirectory $d"; echo "TestingTorNetwork 1"; echo "SocksPort 127.0.0.1:$port"
        echo "UseBridges 1"; echo "$2"
        echo "Log info file $d/info.log"; echo "SafeLogging 0"; echo "PathsNeededToBuildCircuits 0.67"
        cat "$NET/dirauth-lines"
    } >"$d/torrc"
    "$OM" -f "$d/torrc" >"$d/stdout.log" 2>&1 &
    echo "$! $port"
}
check_variant_op() { # NAME PID PORT
    local d="$WORK/op-$1" got
    wait_bootstrapped "$d/info.log" 240 "$2" || { echo "# $1: OP did not bootstrap"; return 1; }
    got=$(curl -s --max-time 120 --socks5-hostname "127.0.0.1:$3" \
        "http://127.0.0.1:$HTTP_PORT/mid.bin" | sha256sum | cut -d' ' -f1)
    grep -o "Learned the descriptor of bridge .*" "$d/info.log" | head -1 | sed 's/^/# /'
    [ "$got" = "$(sha256sum "$WORK/www/mid.bin" | cut -d' ' -f1)" ] &&
        grep -q "Learned the descriptor of bridge .* from its WebSocket port (signature checked)" \
            "$d/info.log"
}
read -r NOKEY_PID NOKEY_PORT <<<"$(start_variant_op nokey "Bridge websocket 127.0.0.1:$WS_PORT $OM_FP url=$URL")"
read -r STALE_PID STALE_PORT <<<"$(start_variant_op stale \
    "Bridge websocket 127.0.0.1:$WS_PORT $OM_FP url=$URL ntor-onion-key=$STALE")"
PIDS="$PIDS $NOKEY_PID $STALE_PID"
if check_variant_op nokey "$NOKEY_PID" "$NOKEY_PORT"; then ok "websocket_line_without_ntor_key"
else notok "websocket_line_without_ntor_key" "$(grep -E '\[(warn|err)\]' "$WORK/op-nokey/info.log" | tail -2)"; fi
if check_variant_op stale "$STALE_PID" "$STALE_PORT" &&
    grep -q "a circuit with the Bridge line's ntor-onion-key failed" "$WORK/op-stale/info.log"; then
    ok "websocket_line_with_stale_ntor_key"
else notok "websocket_line_with_stale_ntor_key" "$(grep -E '\[(warn|err)\]' "$WORK/op-stale/info.log" | tail -2)"; fi
kill "$NOKEY_PID" "$STALE_PID" 2>/dev/null
kill -0 "$OMPID" 2>/dev/null && ok "relay_still_running" || notok "relay_still_running"
# A clean exit on SIGTERM; with a sanitizer build, no memory error or undefined behaviour
# reported (leaks at exit are not checked, as in relay-network-test.sh: the relay does not free
# its links' deferred state when it stops).
kill -TERM "$OMPID" 2>/dev/null
for _ in $(seq 1 60); do kill -0 "$OMPID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$OMPID" 2>/dev/null; then
    notok "relay_exits_on_sigterm"
elif grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/om/stdout.log"; then
    notok "relay_exits_on_sigterm" "sanitizer report in $WORK/om/stdout.log"
    grep -A12 "ERROR:" "$WORK/om/stdout.log" | head -30 | sed 's/^/# /'
else
    ok "relay_exits_on_sigterm_cleanly"
fi
exit $FAILED
