#!/usr/bin/env bash
# bridge-test.sh — bridges both ways on a private network of Debian tor 0.4.9 processes
# (tools/testnet: three authorities, three exit relays):
#  (a) onionmesh's OP with UseBridges 1 and a Bridge line naming a Debian tor relay run as
#      BridgeRelay 1 bootstraps through it (descriptor, certificates, consensus and
#      microdescriptors all from the bridge, never from an authority) and downloads a file
#      byte-exact over bridge -> tor relay -> tor exit; a Bridge line with a wrong fingerprint
#      is never used (the link must prove the pinned identity);
#  (b) onionmesh run as BridgeRelay 1 writes the right DataDirectory/bridge-line, is not in the
#      authorities' consensus, a Debian tor client given that line bootstraps through it and
#      downloads the file byte-exact, and its ORPort self-test (AssumeReachable 0) succeeds
#      through tor relays extending back to it.
# Prints "ok - ..." / "not ok - ..." per check.
# Usage: bridge-test.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
OM="$ROOT/$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-bridgetest-XXXXXX)
NET="$WORK/net"
BIG_MB=${OM_BRIDGETEST_BIG_MB:-20}
PIDS=()
HTTP_PID=""

FAILED=0
ok() { echo "ok - bridge/$1"; }
notok() { echo "not ok - bridge/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    if [ "$FAILED" = 1 ]; then
        for l in "$WORK"/*/info.log; do
            [ -f "$l" ] || continue
            echo "# $(basename "$(dirname "$l")") warnings (last 10):"
            grep -E "\[(warn|err)\]" "$l" | tail -10 | sed 's|^|#   |'
        done
    fi
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_BRIDGETEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

. tests/interop/testlib.sh

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 3 >"$WORK/testnet.log" 2>&1; then
    notok "testnet_up" "see below"; tail -30 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
AUTH_DIRPORT=$(python3 -c "import json;print(json.load(open('$NET/network.json'))['authorities'][0]['dir_port'])")
serve_www "$WORK/www" "onionmesh bridge test page" "$BIG_MB" 1
BIG_SHA=$(sha256sum "$WORK/www/big.bin" | cut -d' ' -f1)

# fetch SOCKS_PORT OUT: the big file through a SOCKS port; 0 if it arrived byte-exact.
fetch_big() {
    rm -f "$2"
    curl -s --max-time 300 --socks5-hostname "127.0.0.1:$1" "http://localhost:$HTTP_PORT/big.bin" -o "$2" || return 1
    [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$BIG_SHA" ]
}
# mkdir_private NAME: a 0700 directory under WORK (tor and onionmesh want their DataDirectory so).
mkdir_private() { mkdir -p "$WORK/$1"; chmod 700 "$WORK/$1"; echo "$WORK/$1"; }

# ---------------------------------------------------------------- (a) onionmesh OP -> tor bridge
TB=$(mkdir_private torbridge)
TB_OR=$(free_port)
{
    echo "DataDirectory $TB"
    echo "Nickname torbridge"
    echo "ORPort 127.0.0.1:$TB_OR"
    echo "Address 127.0.0.1"
    echo "BridgeRelay 1"
    echo "ExitRelay 0"
    echo "SocksPort 0"
    echo "ControlPort 0"
    echo "AssumeReachable 1"
    echo "TestingTorNetwork 1"
    echo "Log info file $TB/info.log"
    cat "$NET/dirauth-lines"
} >"$TB/torrc"
tor -f "$TB/torrc" --defaults-torrc /dev/null >"$TB/stdout.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do [ -s "$TB/fingerprint" ] && break; sleep 0.5; done
TB_FP=$(cut -d' ' -f2 "$TB/fingerprint" 2>/dev/null)
# The bridge relays for its users once it has a consensus (it fetches it like any relay).
for _ in $(seq 1 120); do grep -q "Bootstrapped 100%" "$TB/info.log" 2>/dev/null && break; sleep 0.5; done
check "tor_bridge_up ($TB_FP)" grep -q "Bootstrapped 100%" "$TB/info.log"

# start_om_op NAME BRIDGE_LINE... -> sets OP_SOCKS, OP_PID, OP_DIR
start_om_op() {
    OP_DIR=$(mkdir_private "$1")
    OP_SOCKS=$(free_port)
    {
        echo "DataDirectory $OP_DIR"
        echo "SocksPort 127.0.0.1:$OP_SOCKS"
        echo "TestingTorNetwork 1"
        echo "Log info file $OP_DIR/info.log"
        cat "$NET/dirauth-lines"
        echo "UseBridges 1"
        for b in "${@:2}"; do echo "Bridge $b"; done
    } >"$OP_DIR/torrc"
    "$OM" -f "$OP_DIR/torrc" >"$OP_DIR/stdout.log" 2>&1 &
    OP_PID=$!
    PIDS+=("$OP_PID")
}

t0=$(date +%s.%N)
start_om_op omop "127.0.0.1:$TB_OR $TB_FP"
if wait_bootstrapped "$OP_DIR/info.log" 240 "$OP_PID"; then
    ok "om_op_bootstraps_through_tor_bridge ($(python3 -c "print(round($(date +%s.%N)-$t0,1))") s)"
else
    notok "om_op_bootstraps_through_tor_bridge"
fi
check "om_op_learned_bridge_descriptor" grep -q "Learned the descriptor of bridge 127.0.0.1:$TB_OR $TB_FP (torbridge" "$OP_DIR/info.log"
check "om_op_consensus_from_bridge" grep -q "Accepted a microdesc consensus from bridge torbridge" "$OP_DIR/info.log"
no_authority_fetch() { ! grep -q "from authority" "$OP_DIR/info.log"; }
check "om_op_never_fetched_from_an_authority" no_authority_fetch
# Every circuit starts at the bridge; middle and exit come from the consensus.
first_hops_are_bridge() {
    local n all
    n=$(grep -c "Circuit [0-9]* built:" "$OP_DIR/info.log")
    all=$(grep -c "Circuit [0-9]* built: torbridge -> " "$OP_DIR/info.log")
    [ "$n" -gt 0 ] && [ "$n" = "$all" ] && ! grep "Circuit [0-9]* built:" "$OP_DIR/info.log" | grep -q -- "-> torbridge"
}
check "om_op_circuits_start_at_bridge" first_hops_are_bridge
# Without the key on the line: one CREATE_FAST circuit (the descriptor fetch, as tor's bridge
# clients), then ntor only.
fast_once() { [ "$(grep -c "Fetching the descriptor of bridge .* over a CREATE_FAST circuit" "$OP_DIR/info.log")" = 1 ]; }
check "om_op_create_fast_only_for_the_first_descriptor_fetch" fast_once
t0=$(date +%s.%N)
if fetch_big "$OP_SOCKS" "$WORK/got_a.bin"; then
    ok "om_op_fetch_${BIG_MB}MB_byte_exact_over_tor_bridge ($(python3 -c "print(round($(date +%s.%N)-$t0,1))") s)"
else
    notok "om_op_fetch_${BIG_MB}MB_byte_exact_over_tor_bridge"
fi
kill "$OP_PID" 2>/dev/null; wait "$OP_PID" 2>/dev/null

# never_used CHECK_NAME BRIDGE_LINE WHY: an OP given only this line has not bootstrapped 8 s
# later, and says why (WHY: a grep pattern for its log).
never_used() {
    start_om_op "om_$1" "$2"
    sleep 8
    if ! grep -q "Bootstrapped 100%" "$OP_DIR/info.log" && grep -q "$3" "$OP_DIR/info.log"; then
        ok "$1"
    else
        notok "$1"
    fi
    kill "$OP_PID" 2>/dev/null; wait "$OP_PID" 2>/dev/null
}
# A Bridge line whose fingerprint is not the bridge's: the link fails its CERTS check.
BAD_FP=0123456789ABCDEF0123456789ABCDEF01234567
never_used om_op_refuses_bridge_with_other_identity "127.0.0.1:$TB_OR $BAD_FP" \
    "Could not fetch the descriptor of bridge 127.0.0.1:$TB_OR $BAD_FP: identity mismatch"

# The bridge's ntor key on the line (ntor-onion-key=, tor's key file: header, secret, public):
# no CREATE_FAST at all. With another relay's key the first circuit fails and nothing is used.
ntor_pub() { [ "$(stat -c %s "$1")" = 96 ] && tail -c 32 "$1" | base64 -w0; }
TB_NTOR=$(ntor_pub "$TB/keys/secret_onion_key_ntor")
start_om_op omkey "127.0.0.1:$TB_OR $TB_FP ntor-onion-key=$TB_NTOR"
no_fast() {
    wait_bootstrapped "$OP_DIR/info.log" 120 "$OP_PID" &&
        grep -q "Fetching the descriptor of bridge .* over an ntor circuit (key from the Bridge line)" "$OP_DIR/info.log" &&
        ! grep -q "CREATE_FAST" "$OP_DIR/info.log" && fetch_big "$OP_SOCKS" "$WORK/got_a3.bin"
}
check "om_op_with_ntor_key_on_line_never_uses_create_fast" no_fast
kill "$OP_PID" 2>/dev/null; wait "$OP_PID" 2>/dev/null
OTHER_NTOR=$(ntor_pub "$NET/relay0/keys/secret_onion_key_ntor")
never_used om_op_with_wrong_ntor_key_never_uses_bridge \
    "127.0.0.1:$TB_OR $TB_FP ntor-onion-key=$OTHER_NTOR" \
    "Could not fetch the descriptor of bridge 127.0.0.1:$TB_OR $TB_FP"

# Two Bridge lines, the first one dead (nothing listens there): the OP uses the live one.
DEAD_PORT=$(free_port)
start_om_op omtwo "127.0.0.1:$DEAD_PORT $BAD_FP" "127.0.0.1:$TB_OR $TB_FP"
if wait_bootstrapped "$OP_DIR/info.log" 120 "$OP_PID" && fetch_big "$OP_SOCKS" "$WORK/got_a2.bin"; then
    ok "om_op_uses_the_live_one_of_two_bridges"
else
    notok "om_op_uses_the_live_one_of_two_bridges"
fi
kill "$OP_PID" 2>/dev/null; wait "$OP_PID" 2>/dev/null

# An unknown transport is refused at start with the reason.
unknown_transport_refused() {
    local d; d=$(mkdir_private omunk)
    "$OM" --verify-config --DataDirectory "$d" --UseBridges 1 \
        --Bridge "nosuchtransport 127.0.0.1:$TB_OR $TB_FP k=v" >"$d/out" 2>&1 && return 1
    grep -q 'no transport called "nosuchtransport"' "$d/out"
}
check "om_op_refuses_unknown_transport" unknown_transport_refused

# ---------------------------------------------------------------- (b) tor client -> onionmesh bridge
OB=$(mkdir_private ombridge)
{
    echo "DataDirectory $OB"
    echo "Nickname ombridge"
    echo "ORPort 127.0.0.1:auto"
    echo "Address 127.0.0.1"
    echo "BridgeRelay 1"
    echo "SocksPort 0"
    echo "TestingTorNetwork 1"
    echo "AssumeReachable 0" # the ORPort self-test runs, through tor relays back to the bridge
    echo "Log info file $OB/info.log"
    cat "$NET/dirauth-lines"
} >"$OB/torrc"
OB_START=$(date -u +%s)
"$OM" -f "$OB/torrc" >"$OB/stdout.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do [ -s "$OB/bridge-line" ] && break; sleep 0.5; done
OB_FP=$(cut -d' ' -f2 "$OB/fingerprint" 2>/dev/null)
OB_PORT=$(grep -o "listening on ORPort 127.0.0.1:[0-9]*" "$OB/info.log" | grep -o "[0-9]*$")
bridge_line_right() {
    [ "$(cat "$OB/bridge-line")" = "Bridge 127.0.0.1:$OB_PORT $OB_FP" ] &&
        grep -q "Your bridge line (also in $OB/bridge-line): Bridge 127.0.0.1:$OB_PORT $OB_FP" "$OB/info.log"
}
check "om_bridge_line_file ($(cat "$OB/bridge-line" 2>/dev/null))" bridge_line_right
check "om_bridge_does_not_upload" grep -q "BridgeRelay is 1: serving our descriptor to bridge users only" "$OB/info.log"

TC=$(mkdir_private torclient)
TC_SOCKS=$(free_port)
{
    echo "DataDirectory $TC"
    echo "SocksPort 127.0.0.1:$TC_SOCKS"
    echo "ControlPort 0"
    echo "TestingTorNetwork 1"
    echo "Log info file $TC/info.log"
    cat "$NET/dirauth-lines"
    echo "UseBridges 1"
    cat "$OB/bridge-line"
} >"$TC/torrc"
t0=$(date +%s.%N)
tor -f "$TC/torrc" --defaults-torrc /dev/null >"$TC/stdout.log" 2>&1 &
TC_PID=$!
PIDS+=("$TC_PID")
if wait_bootstrapped "$TC/info.log" 240 "$TC_PID"; then
    ok "tor_client_bootstraps_through_om_bridge ($(python3 -c "print(round($(date +%s.%N)-$t0,1))") s)"
else
    notok "tor_client_bootstraps_through_om_bridge"
fi
check "tor_client_took_om_bridge_descriptor" grep -q "new bridge descriptor 'ombridge'" "$TC/info.log"
t0=$(date +%s.%N)
if fetch_big "$TC_SOCKS" "$WORK/got_b.bin"; then
    ok "tor_client_fetch_${BIG_MB}MB_byte_exact_over_om_bridge ($(python3 -c "print(round($(date +%s.%N)-$t0,1))") s)"
else
    notok "tor_client_fetch_${BIG_MB}MB_byte_exact_over_om_bridge"
fi
check "tor_client_circuits_start_at_om_bridge" grep -q "circ (length 3): \$$OB_FP(open)" "$TC/info.log"
# The bridge's ORPort self-test (as tor's bridges run it): a circuit through two tor relays whose
# last one extends back to the bridge; the bridge was serving its descriptor before it ended.
bridge_self_test() {
    for _ in $(seq 1 120); do
        grep -q "Self-testing indicates your ORPort 127.0.0.1:$OB_PORT is reachable" "$OB/info.log" && return 0
        sleep 1
    done
    return 1
}
check "om_bridge_orport_self_test" bridge_self_test

# Neither bridge is in the authorities' consensus, once one made after the onionmesh bridge
# started is out (the test network votes every few seconds).
consensus_after_start() {
    local va
    va=$(curl -s "http://127.0.0.1:$AUTH_DIRPORT/tor/status-vote/current/consensus-microdesc" | sed -n 's/^valid-after //p')
    [ -n "$va" ] && [ "$(date -u -d "$va" +%s)" -gt "$((OB_START + 5))" ]
}
for _ in $(seq 1 120); do consensus_after_start && break; sleep 1; done
not_in_consensus() {
    local c
    c=$(curl -s "http://127.0.0.1:$AUTH_DIRPORT/tor/status-vote/current/consensus-microdesc")
    echo "$c" | grep -q "^r " && ! echo "$c" | grep -q "^r ombridge " && ! echo "$c" | grep -q "^r torbridge "
}
check "bridges_not_in_consensus" consensus_after_start
check "bridges_not_listed_by_authorities" not_in_consensus

# No sanitizer report from any onionmesh process (meaningful with an ASan+UBSan build only).
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
PIDS=()
sanitizers_quiet() {
    ! grep -l "ERROR: AddressSanitizer\|runtime error:" "$WORK"/om*/stdout.log 2>/dev/null
}
if { nm -D "$OM"; nm "$OM"; } 2>/dev/null | grep -q "__asan_init\|__ubsan_handle"; then
    check "no_sanitizer_reports" sanitizers_quiet
else
    echo "ok - bridge/no_sanitizer_reports # SKIP $OM is not a sanitizer build"
fi

exit "$FAILED"
