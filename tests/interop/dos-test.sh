#!/usr/bin/env bash
# dos-test.sh — the relay's DoS mitigation (src/or/dos.c) in a private Tor network of Debian tor
# 0.4.9 (tools/testnet: three tor authorities, two tor relays, one onionmesh relay), enabled the
# way tor relays are: by consensus parameters (ConsensusParams DoSCircuitCreationEnabled=1
# DoSConnectionEnabled=1 DoSStreamCreationEnabled=1 ...; the relay's torrc says nothing, "auto").
# Attacks come from 127.0.0.2 (tests/interop/dos_attack.py): a BEGIN flood on one circuit, a
# CREATE2 flood over four links, a flood of 150 concurrent connections, then connection churn;
# and one ESTABLISH_RENDEZVOUS on the attacker's one-hop circuit (DoSRefuseSingleHopClientRendezvous).
# Proves: the floods are refused as tor refuses them (END MISC past the stream burst, DESTROY
# RESOURCELIMIT past the circuit burst, connections over DoSConnectionMaxConcurrentCount and past
# the connect rate closed at once), the heartbeat's "DoS mitigation since startup" line counts
# them, the relay process lives, and an honest tor client on 127.0.0.1 with the onionmesh relay as
# its guard downloads byte-exact during and after the attacks. Prints "ok - ..." / "not ok - ...".
# Usage: dos-test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) OM="$BUILD/onionmesh" ;; *) OM="$ROOT/$BUILD/onionmesh" ;; esac
WORK=$(mktemp -d /tmp/om-dostest-XXXXXX)
NET="$WORK/net"
ATTACK="python3 tests/interop/dos_attack.py"
CLIENT_PID=""
HTTP_PID=""
FAILED=0
ok() { echo "ok - dos/$1"; }
notok() { echo "not ok - dos/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    if [ "$FAILED" = 1 ] && [ -f "$NET/omrelay0/info.log" ]; then
        grep -E "\[(warn|err)\]|DoS" "$NET/omrelay0/info.log" | tail -15 | sed "s|^|# omrelay0: |"
    fi
    [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_DOSTEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT
. tests/interop/testlib.sh
jq_net() { python3 -c "import json,sys;n=json.load(open('$NET/network.json'));print($1)"; }

if ! python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.2',0))" 2>/dev/null; then
    notok "source_address_127.0.0.2" "cannot bind 127.0.0.2"; exit 1
fi
echo "# $(tor --version | head -1)"
# The onionmesh relay inherits this (ONIONMESH_* environment options): a heartbeat every 5 s,
# allowed on a testing network (tor: at least 30 minutes otherwise).
export ONIONMESH_HeartbeatPeriod="5 seconds"
PARAMS="ConsensusParams DoSCircuitCreationEnabled=1 DoSConnectionEnabled=1"
PARAMS="$PARAMS DoSStreamCreationEnabled=1 DoSRefuseSingleHopClientRendezvous=1"
PARAMS="$PARAMS DoSConnectionConnectBurst=150"
if ! tools/testnet up --dir "$NET" --tor-relays 2 --onionmesh-relays 1 --clients 0 \
    --onionmesh-bin "$OM" --authority-option "AuthDirVoteStableGuaranteeMinUptime 0" \
    --authority-option "$PARAMS" >"$WORK/testnet.log" 2>&1; then
    notok "testnet_up" "see below"; tail -30 "$WORK/testnet.log"; exit 1
fi
unset ONIONMESH_HeartbeatPeriod
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
LOG="$NET/omrelay0/info.log"
OM_PID=$(jq_net "n['onionmesh_relays'][0]['pid']")
OM_PORT=$(jq_net "n['onionmesh_relays'][0]['or_port']")
OM_FP=$(cut -d' ' -f2 "$NET/omrelay0/fingerprint")
params_on() { grep -q "DoS mitigation: circuit creation on .* connections on .* streams on .* refused: yes" "$LOG"; }
for _ in $(seq 1 60); do params_on && break; sleep 0.5; done
check "consensus_params_enable_every_mitigation" params_on

# The honest client: tor on 127.0.0.1, the onionmesh relay as its only guard.
serve_www "$WORK/www" "onionmesh dos test page" 24 4
C="$WORK/client"; SOCKS=$(free_port); mkdir -p "$C"; chmod 700 "$C"
{
    echo "DataDirectory $C"; echo "Log info file $C/info.log"; echo "SocksPort 127.0.0.1:$SOCKS"
    echo "TestingTorNetwork 1"; echo "PathsNeededToBuildCircuits 0.67"
    cat "$NET/dirauth-lines"; echo "EntryNodes $OM_FP"; echo "StrictNodes 1"
} >"$C/torrc"
tor -f "$C/torrc" >"$C/stdout.log" 2>&1 &
CLIENT_PID=$!
check "honest_client_bootstraps_through_onionmesh_guard" wait_bootstrapped "$C/info.log" 120 "$CLIENT_PID"
fetch() { curl -sS --max-time 120 --retry 2 --socks5-hostname "127.0.0.1:$SOCKS" \
    "http://www.onionmesh.test:$HTTP_PORT/$1" -o "$2"; }
fetch mid.bin "$WORK/before.out"
check "download_before_attacks_byte_exact" cmp -s "$WORK/before.out" "$WORK/www/mid.bin"
fetch big.bin "$WORK/during.out" & DURING=$!

# 1. a BEGIN flood on one circuit: 400 BEGINs, burst 300 (END MISC past it, tor 0.4.9)
$ATTACK "$OM_PORT" 127.0.0.2 streams 400 >"$WORK/streams.out" 2>&1; cat "$WORK/streams.out" | sed 's/^/# /'
misc_ends() { python3 - "$WORK/streams.out" <<'PY'
import ast, re, sys
t = open(sys.argv[1]).read()
m = re.search(r"END reasons (\[.*?\]) destroyed (\w+)", t)
r = dict(ast.literal_eval(m.group(1))) if m else {}
sys.exit(0 if m and m.group(2) == "None" and r.get(1, 0) >= 50 and sum(r.values()) == 400 else 1)
PY
}
check "stream_flood_refused_with_end_misc_past_burst" misc_ends
# 2. a CREATE2 flood over four links (>= DoSCircuitCreationMinConnections): burst 90, then
#    DESTROY RESOURCELIMIT (5)
$ATTACK "$OM_PORT" 127.0.0.2 creates 4 150 >"$WORK/creates.out" 2>&1; sed 's/^/# /' "$WORK/creates.out"
resourcelimit() { python3 - "$WORK/creates.out" <<'PY'
import ast, re, sys
m = re.search(r"DESTROY reasons (\[.*?\])", open(sys.argv[1]).read())
r = dict(ast.literal_eval(m.group(1))) if m else {}
sys.exit(0 if r.get(5, 0) >= 40 and sum(r.values()) == 150 else 1)
PY
}
check "create2_flood_refused_with_destroy_resourcelimit" resourcelimit
# 3. 150 concurrent connections: 100 stay (DoSConnectionMaxConcurrentCount), the rest closed
DOS_HOLD=3 $ATTACK "$OM_PORT" 127.0.0.2 conns 150 >"$WORK/conns.out" 2>&1; sed 's/^/# /' "$WORK/conns.out"
conns_capped() { grep -Eq "conns: accepted (9[0-9]|100) closed (5[0-9]|60)$" "$WORK/conns.out"; }
check "connection_flood_capped_at_100_concurrent" conns_capped
# 4. connection churn past DoSConnectionConnectBurst (150): the address is marked, later
#    connections are closed at once
sleep 1
$ATTACK "$OM_PORT" 127.0.0.2 churn 300 >"$WORK/churn.out" 2>&1; sed 's/^/# /' "$WORK/churn.out"
churn_marked() { grep -Eq "churn: accepted [0-9]+ closed [1-9][0-9]*$" "$WORK/churn.out"; }
check "connection_churn_marked_and_closed" churn_marked

check "onionmesh_relay_alive" kill -0 "$OM_PID"
wait "$DURING"
check "download_during_attacks_byte_exact" cmp -s "$WORK/during.out" "$WORK/www/big.bin"
fetch mid.bin "$WORK/after.out"
check "download_after_attacks_byte_exact" cmp -s "$WORK/after.out" "$WORK/www/mid.bin"

# 5. the heartbeat counts them (5 s period here)
sleep 6
HB=$(grep "Heartbeat: DoS mitigation since startup" "$LOG" | tail -1)
echo "# ${HB#*\] }"
hb_counts() { python3 - "$HB" <<'PY'
import re, sys
t = sys.argv[1]
def n(what):
    m = re.search(r"(\d+) " + what, t)
    return int(m.group(1)) if m else -1
ok = (n("circuits rejected") >= 40 and n("marked addresses") >= 1
      and n("same address concurrent connections rejected") >= 40
      and n("connections rejected") >= 1 and n("stream rejected") >= 50
      and n("single hop clients refused") >= 1)
sys.exit(0 if ok else 1)
PY
}
check "heartbeat_counts_every_refusal" hb_counts
check "heartbeat_status_line" grep -q "Heartbeat: Tor's uptime is .* circuits open. I've sent" "$LOG"
check "onionmesh_relay_still_alive" kill -0 "$OM_PID"
exit $FAILED
