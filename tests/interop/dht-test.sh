#!/usr/bin/env bash
# dht-test.sh — the DHT (doc/dht.md) on a private network of Debian tor 0.4.9: three tor
# authorities, three tor relays and ten onionmesh relays (tools/testnet). Proves: tor's
# authorities carry "OnionMeshDht=1" from our descriptors' proto lines into the consensus's "pr"
# lines (membership needs no probing), every onionmesh relay's routing table holds the other
# nine, an onionmesh client (build/tools/onionmesh-dht, its own OP) stores a provider record
# signed by a relay's identity at the 8 closest nodes through 3-hop circuits and another client
# finds it, a record naming another relay is refused everywhere, an unknown key finds nothing,
# malformed DHT streams from 127.0.0.2 end only their stream, a tor exit answers a DHT BEGIN with
# END, and the tor processes' logs show no warning from any of it.
# Prints "ok - ..." / "not ok - ..." per check. Usage: dht-test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OM="$BUILD/onionmesh"
DHT="$BUILD/tools/onionmesh-dht"
[ -x "$DHT" ] || DHT="$ROOT/build-ci/tools/onionmesh-dht"
WORK=$(mktemp -d /tmp/om-dhttest-XXXXXX)
NET="$WORK/net"

FAILED=0
ok() { echo "ok - dht/$1"; }
notok() { echo "not ok - dht/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    if [ "$FAILED" = 1 ]; then
        for l in "$NET"/omrelay*/info.log "$WORK"/client*/info.log; do
            [ -f "$l" ] && grep -E "\[(warn|err)\]|DHT" "$l" | tail -8 | sed "s|^|# $(basename "$(dirname "$l")"): |"
        done
    fi
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_DHTTEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

jq_net() { python3 -c "import json,sys;n=json.load(open('$NET/network.json'));print($1)"; }

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 3 --onionmesh-relays 10 --clients 0 \
    --onionmesh-bin "$OM" >"$WORK/testnet.log" 2>&1; then
    notok network_up "$(tail -5 "$WORK/testnet.log" | tr '\n' ' ')"
    exit 1
fi
ok network_up
AUTH_DIR=$(jq_net "n['authorities'][0]['dir_port']")

# The tor processes' warnings so far (start-up notes); later ones would come from our traffic.
tor_logs() { ls "$NET"/auth*/*.log "$NET"/relay*/*.log; }
warn_count() { cat $(tor_logs) | grep -cE "\[(warn|err)\]"; }
WARN0=$(warn_count)

# 1. Membership: the consensus's pr lines, as tor's authorities computed them.
curl -s "http://127.0.0.1:$AUTH_DIR/tor/status-vote/current/consensus-microdesc" >"$WORK/cons"
members=$(grep -c "^pr .*OnionMeshDht=1" "$WORK/cons")
total=$(grep -c "^pr " "$WORK/cons")
echo "# $members of $total pr lines list OnionMeshDht=1"
check consensus_carries_onionmesh_dht [ "$members.$total" = 10.16 ]

# 2. Every relay's table holds the other nine (rebuilt from the consensus within 10 s).
tables_full() {
    local d
    for d in "$NET"/omrelay*; do
        grep -q "DHT: 9 nodes in the routing table from the consensus" "$d/info.log" || return 1
        [ "$(grep -cE '^[0-9A-F]{40} ' "$d/dht-table")" = 9 ] || return 1
    done
}
for _ in $(seq 30); do tables_full && break; sleep 1; done
check tables_hold_the_other_members tables_full

# Two clients, each its own OP and data directory.
for c in 1 2; do
    mkdir -p "$WORK/client$c"
    { echo "DataDirectory $WORK/client$c/data"; echo "SocksPort 127.0.0.1:auto"
      echo "TestingTorNetwork 1"; echo "Log info file $WORK/client$c/info.log"
      echo "Log warn stderr"; cat "$NET/dirauth-lines"; } >"$WORK/client$c/torrc"
done
KEY=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
FP0=$(cut -d' ' -f2 "$NET/omrelay0/fingerprint")
FP1=$(cut -d' ' -f2 "$NET/omrelay1/fingerprint")

# 3. Store and find.
out=$("$DHT" -f "$WORK/client1/torrc" provide "$KEY" "$NET/omrelay0" 2>&1)
check provide_stores_at_8_nodes [ "$(echo "$out" | tail -1)" = "stored at 8 of 8 nodes" ] ||
    echo "# $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$("$DHT" -f "$WORK/client2/torrc" find "$KEY" 2>&1)
check other_client_finds_provider [ "$(echo "$out" | grep '^provider' | cut -d' ' -f2)" = "$FP0" ] ||
    echo "# $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$("$DHT" -f "$WORK/client2/torrc" --alpha 1 find "$KEY" 2>&1)
check finds_provider_with_alpha_1 [ "$(echo "$out" | grep '^provider' | cut -d' ' -f2)" = "$FP0" ]
# Every query went over a 3-hop circuit whose last hop is an onionmesh relay.
built=$(grep -c "Circuit [0-9]* built: .* -> .* -> omrelay" "$WORK/client2/info.log")
check find_used_3_hop_circuits_to_dht_nodes [ "$built" -ge 1 ]

# 4. Refusals: an unknown key; a record signed by omrelay0 that names omrelay1.
out=$("$DHT" -f "$WORK/client2/torrc" find "$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')" 2>&1)
rc=$?
says() { echo "$out" | grep -q "$1"; }
nothing_found() { [ $rc = 1 ] && says "^no provider"; }
check unknown_key_finds_nothing nothing_found
KEY2=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
out=$("$DHT" -f "$WORK/client1/torrc" provide "$KEY2" "$NET/omrelay0" "$FP1" 2>&1)
check record_naming_another_relay_refused says "^stored at 0 of 8 nodes"
out=$("$DHT" -f "$WORK/client2/torrc" find "$KEY2" 2>&1)
check forged_record_not_found says "^no provider"

# 5. Raw DHT streams from 127.0.0.2: malformed ones end only their stream.
P0=$(jq_net "n['onionmesh_relays'][0]['or_port']")
python3 tests/interop/dht_probe.py onionmesh "$P0" "$FP0" >"$WORK/probe.out" 2>&1
while read -r verdict name rest; do
    case "$verdict" in ok) ok "$name" ;; not) notok "${rest%%:*}" "${rest#*: }" ;; esac
done <"$WORK/probe.out"
grep -q "^ok dht_circuit_survives_bad_streams" "$WORK/probe.out" || notok probe_ran "$(tail -3 "$WORK/probe.out")"

# 6. A tor exit asked for the DHT (through omrelay0: tor refuses streams on a client's first hop).
read -r TP TFP < <(jq_net "n['relays'][0]['or_port'], n['relays'][0]['fingerprint']")
python3 tests/interop/dht_probe.py tor "$P0" "$TP" "$TFP" "$AUTH_DIR" >"$WORK/probe-tor.out" 2>&1
check tor_exit_ends_dht_stream grep -q "^ok tor_relay_ends_dht_begin" "$WORK/probe-tor.out" ||
    echo "# $(tr '\n' ' ' <"$WORK/probe-tor.out")"
check tor_circuit_stays_open grep -q "^ok tor_circuit_still_open" "$WORK/probe-tor.out"

# 7. Nothing above made a tor process warn; every onionmesh relay is still running.
sleep 2
WARN1=$(warn_count)
check tor_logs_clean [ "$WARN1" = "$WARN0" ] ||
    cat $(tor_logs) | grep -E "\[(warn|err)\]" | tail -$((WARN1 - WARN0)) | sed 's/^/# /'
alive=0
for p in $(jq_net "' '.join(str(r['pid']) for r in n['onionmesh_relays'])"); do
    kill -0 "$p" 2>/dev/null && alive=$((alive + 1))
done
check onionmesh_relays_alive [ "$alive" = 10 ]
exit $FAILED
