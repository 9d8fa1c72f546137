#!/usr/bin/env bash
# relay-network-test.sh — onionmesh as a relay (OR) in a private Tor network of Debian tor 0.4.9:
# three tor authorities, three tor relays and three onionmesh relays (tools/testnet), used by tor
# 0.4.9 clients. Proves: the authorities list our relays Running/Valid (Guard, Exit, V2Dir as
# voted), a tor client bootstraps from an onionmesh relay's directory cache and fetches through it
# as its first hop byte-exact (page and a big file), an onionmesh relay carries a tor client's
# circuit as the middle hop to a tor exit, a restarted relay keeps its identity and its place in
# the consensus, and hostile ORPort input closes only the offending link while downloads go on.
# Prints "ok - ..." / "not ok - ..." per check. Usage: relay-network-test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
OM="$ROOT/$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-relaytest-XXXXXX)
NET="$WORK/net"
BIG_MB=${OM_RELAYTEST_BIG_MB:-100}
CLIENT_PIDS=""
HTTP_PID=""

FAILED=0
ok() { echo "ok - relay/$1"; }
notok() { echo "not ok - relay/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    if [ "$FAILED" = 1 ]; then
        for l in "$NET"/omrelay*/info.log; do
            [ -f "$l" ] && grep -E "\[(warn|err)\]" "$l" | tail -10 | sed "s|^|# $(basename "$(dirname "$l")"): |"
        done
        for c in "$WORK"/client*/info.log; do
            [ -f "$c" ] && grep -E "\[warn\]" "$c" | tail -5 | sed "s|^|# $(basename "$(dirname "$c")"): |"
        done
    fi
    for p in $CLIENT_PIDS; do kill "$p" 2>/dev/null; done
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_RELAYTEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

. tests/interop/testlib.sh
jq_net() { python3 -c "import json,sys;n=json.load(open('$NET/network.json'));print($1)"; }

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 3 --onionmesh-relays 3 --clients 0 \
    --onionmesh-bin "$OM" >"$WORK/testnet.log" 2>&1; then
    notok "testnet_up" "see below"; tail -30 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up_with_3_onionmesh_relays ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
AUTH_DIR=$(jq_net "n['authorities'][0]['dir_port']")
om_port() { jq_net "n['onionmesh_relays'][$1]['or_port']"; }
om_fp() { cut -d' ' -f2 "$NET/omrelay$1/fingerprint"; }
tor_fp() { jq_net "n['relays'][$1]['fingerprint']"; }
tor_port() { jq_net "n['relays'][$1]['or_port']"; }

# 1. the consensus lists every onionmesh relay Running and Valid, with Guard and Exit as the
#    authorities vote them under TestingDirAuthVote*, V2Dir (we are a directory cache) and our
#    proto line
consensus() { curl -s --max-time 10 "http://127.0.0.1:$AUTH_DIR/tor/status-vote/current/consensus"; }
listed_ok() {
    local c; c=$(consensus)
    for i in 0 1 2; do
        local fl; fl=$(echo "$c" | grep -A1 "^r omrelay$i " | sed -n 's/^s //p')
        for f in Running Valid Guard Exit V2Dir; do
            echo " $fl " | grep -q " $f " || { echo "# omrelay$i flags: $fl (no $f)"; return 1; }
        done
    done
    echo "$c" | grep -A2 "^r omrelay0 " | grep -q "^pr .*LinkAuth=3.*Relay=2,4"
}
for _ in $(seq 1 30); do listed_ok >/dev/null 2>&1 && break; sleep 2; done
check "consensus_lists_onionmesh_relays_running_valid_guard_exit_v2dir" listed_ok

# HTTP server for the downloads
serve_www "$WORK/www" "onionmesh relay test page" "$BIG_MB" 2

# A tor client whose first hop is a bridge (bridge users need no Guard/Fast/Stable flags and
# fetch all directory information from their bridge), with pinned middle and exit.
start_client() { # name bridge_port bridge_fp middle exit -> sets SOCKS_<name>
    local name=$1 d="$WORK/$1" port; port=$(free_port)
    mkdir -p "$d"; chmod 700 "$d"
    {
        echo "DataDirectory $d"
        echo "Log info file $d/info.log"
        echo "SocksPort 127.0.0.1:$port"
        echo "ControlPort 0"
        echo "TestingTorNetwork 1"
        echo "PathsNeededToBuildCircuits 0.67"
        cat "$NET/dirauth-lines"
        echo "UseBridges 1"
        echo "Bridge 127.0.0.1:$2 $3"
        echo "MiddleNodes $4"
        echo "ExitNodes $5"
        echo "StrictNodes 1"
    } >"$d/torrc"
    tor -f "$d/torrc" >"$d/stdout.log" 2>&1 &
    CLIENT_PIDS="$CLIENT_PIDS $!"
    eval "SOCKS_$name=$port"
    for _ in $(seq 1 120); do
        grep -q "Bootstrapped 100%" "$d/info.log" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}
# By a name the exits resolve (testnet DNS): with an address, tor would pick the relay that has
# that address (all have 127.0.0.1) as the exit itself ("exit enclave").
fetch() { # socks_port path out
    curl -sS --max-time 600 --retry 3 --retry-delay 2 --socks5-hostname "127.0.0.1:$1" \
        "http://www.onionmesh.test:$HTTP_PORT/$2" -o "$3"
}
same_file() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

# 2. onionmesh as first hop and directory cache: tor client -> omrelay0 -> relay1 -> relay2
check "tor_client_bootstraps_via_onionmesh_bridge" \
    start_client clientA "$(om_port 0)" "$(om_fp 0)" "$(tor_fp 1)" "$(tor_fp 2)"
served_consensus() {
    grep -q "Received consensus directory .* from server 127.0.0.1:$(om_port 0)" "$WORK/clientA/info.log"
}
check "tor_client_got_consensus_from_onionmesh_dircache" served_consensus
fetch "$SOCKS_clientA" index.html "$WORK/a_page.out"
check "guard_page_byte_exact" cmp -s "$WORK/a_page.out" "$WORK/www/index.html"
t0=$(date +%s.%N)
fetch "$SOCKS_clientA" big.bin "$WORK/a_big.out"
t1=$(date +%s.%N)
rate=$(python3 -c "print(round($BIG_MB/($t1-$t0),1))")
check "guard_big_${BIG_MB}MB_sha256 (${rate} MB/s)" same_file "$WORK/a_big.out" "$WORK/www/big.bin"

# 3. onionmesh as middle: tor client -> relay0 (tor) -> omrelay1 -> relay2 (tor exit). The tor
#    exit serves the stream only if omrelay1 proved itself a relay with AUTHENTICATE.
if start_client clientB "$(tor_port 0)" "$(tor_fp 0)" "$(om_fp 1)" "$(tor_fp 2)"; then
    fetch "$SOCKS_clientB" mid.bin "$WORK/b_mid.out"
    check "middle_byte_exact (tor guard -> onionmesh middle -> tor exit)" \
        same_file "$WORK/b_mid.out" "$WORK/www/mid.bin"
else
    notok "middle_client_bootstraps"
fi

# 4. hostile input on omrelay0's ORPort: each bad link is closed, a CREATE2 flood is answered
#    with DESTROYs (RESOURCELIMIT past the per-link rate) on a link that stays up, and the tor
#    client keeps fetching through omrelay0
python3 tests/interop/orport_hostile.py "$(om_port 0)" >"$WORK/hostile.out" 2>&1
sed 's/^/# /' "$WORK/hostile.out"
hostile_ok() {
    grep -q "^tcp_garbage: closed" "$WORK/hostile.out" &&
        grep -q "^tls_garbage: closed" "$WORK/hostile.out" &&
        grep -q "^versions_bad_length: closed" "$WORK/hostile.out" &&
        grep -q "^certs_before_versions: closed" "$WORK/hostile.out" &&
        grep -q "^unknown_commands_then_create2: answered 1" "$WORK/hostile.out" &&
        grep -Eq "^create2_flood: answered 400 reasons .*\(5, [0-9]+\)" "$WORK/hostile.out"
}
check "hostile_orport_input_closes_only_its_link" hostile_ok
fetch "$SOCKS_clientA" mid.bin "$WORK/a_mid.out"
check "still_serving_after_hostile_input" same_file "$WORK/a_mid.out" "$WORK/www/mid.bin"

# 5. a restarted relay keeps its identity and stays in the consensus
FP2=$(om_fp 2)
PID2=$(jq_net "n['onionmesh_relays'][2]['pid']")
kill "$PID2"; for _ in $(seq 1 50); do kill -0 "$PID2" 2>/dev/null || break; sleep 0.1; done
"$OM" -f "$NET/omrelay2/torrc" >>"$NET/omrelay2/stdout.log" 2>&1 &
NEWPID=$!
python3 - "$NET/network.json" "$NEWPID" <<'PY'
import json, sys
p, pid = sys.argv[1], int(sys.argv[2])
n = json.load(open(p)); n["onionmesh_relays"][2]["pid"] = pid; n["pids"].append(pid)
json.dump(n, open(p, "w"), indent=1)
PY
RESTARTED=$(date -u +%s)
restart_ok() {
    # The same keys were loaded (same fingerprint file), and a consensus voted at least 40 s
    # after the restart (after the authorities' reachability tests of the new process) still
    # lists omrelay2 Running with that identity. (The authorities keep the first descriptor: a
    # new one differing only in uptime and publication time is "cosmetic" to them.)
    [ "$(om_fp 2)" = "$FP2" ] || return 1
    for _ in $(seq 1 60); do
        if consensus | python3 -c "
import base64, calendar, sys, time
t = sys.stdin.read()
va = next(l for l in t.splitlines() if l.startswith('valid-after '))
va = calendar.timegm(time.strptime(va[12:], '%Y-%m-%d %H:%M:%S'))
if va < $RESTARTED + 40:
    sys.exit(2)
lines = t.splitlines()
for i, l in enumerate(lines):
    if l.startswith('r omrelay2 '):
        fp = base64.b64decode(l.split()[2] + '=').hex().upper()
        sys.exit(0 if fp == '$FP2' and ' Running ' in lines[i + 1] + ' ' else 1)
sys.exit(1)"; then
            return 0
        elif [ $? = 1 ]; then
            return 1
        fi
        sleep 2
    done
    return 1
}
check "restarted_relay_keeps_identity_and_listing" restart_ok

echo "# omrelay0: $(grep -c 'Directory cache' "$NET/omrelay0/info.log") directory cache lines, $(grep -c 'refused' "$NET/omrelay0/info.log") refusals logged"
exit "$FAILED"
