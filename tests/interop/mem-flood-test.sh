#!/usr/bin/env bash
# mem-flood-test.sh — an onionmesh relay's memory stays bounded under floods from 127.0.0.2, in a
# private Tor network of Debian tor 0.4.9 (tools/testnet: three authorities, three tor relays, one
# onionmesh relay run with the smallest MaxMemInQueues we test, 64 MB): links that send CREATE2
# cells without ever reading the DESTROY answers, and connections that never finish their
# handshake. After each flood the relay is alive and its peak RSS stayed under MaxMemInQueues plus
# the fixed overhead doc/relay.md states; then an honest tor client on 127.0.0.1 (the relay is its
# bridge and directory cache) still downloads byte-exact through it.
# Prints "ok - ..." / "not ok - ..." per check. Usage: mem-flood-test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) OM="$BUILD/onionmesh" ;; *) OM="$ROOT/$BUILD/onionmesh" ;; esac
WORK=$(mktemp -d /tmp/om-memflood-XXXXXX)
NET="$WORK/net"
MAXMEM_MB=64
OVERHEAD_MB=${OM_MEMFLOOD_OVERHEAD_MB:-64} # doc/relay.md, "Memory under hostile peers"
BIG_MB=20
CLIENT_PID=""
HTTP_PID=""
SAMPLER_PID=""

FAILED=0
ok() { echo "ok - memflood/$1"; }
notok() { echo "not ok - memflood/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    [ "$FAILED" = 1 ] && grep -E "\[(warn|err)\]" "$NET/omrelay0/info.log" 2>/dev/null | tail -10 | sed 's/^/# omrelay0: /'
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
    [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_MEMFLOOD_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

. tests/interop/testlib.sh
jq_net() { python3 -c "import json;n=json.load(open('$NET/network.json'));print($1)"; }

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 3 --onionmesh-relays 1 --clients 0 \
    --onionmesh-bin "$OM" >"$WORK/testnet.log" 2>&1; then
    notok "testnet_up" "see below"; tail -30 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up"
PORT=$(jq_net "n['onionmesh_relays'][0]['or_port']")
FP=$(cut -d' ' -f2 "$NET/omrelay0/fingerprint")

# The relay again, with MaxMemInQueues 64 MB (accepted below tor's 256 MB minimum under
# TestingTorNetwork, which testnet sets); network.json gets the new pid.
pid=$(jq_net "n['onionmesh_relays'][0]['pid']")
kill "$pid"; for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
echo "MaxMemInQueues $MAXMEM_MB MB" >>"$NET/omrelay0/torrc"
accepted=$(grep -c "Accepted a microdesc consensus" "$NET/omrelay0/info.log")
"$OM" -f "$NET/omrelay0/torrc" >>"$NET/omrelay0/stdout.log" 2>&1 &
RPID=$!
python3 - "$NET/network.json" "$RPID" <<'PY'
import json, sys
p, pid = sys.argv[1], int(sys.argv[2])
n = json.load(open(p)); n["onionmesh_relays"][0]["pid"] = pid; n["pids"].append(pid)
json.dump(n, open(p, "w"), indent=1)
PY
for _ in $(seq 1 600); do
    [ "$(grep -c "Accepted a microdesc consensus" "$NET/omrelay0/info.log")" -gt "$accepted" ] && break
    sleep 0.1
done
sleep 2

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$RPID/status" 2>/dev/null || echo 0; }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$RPID/status" 2>/dev/null || echo 0; }

serve_www "$WORK/www" "onionmesh memory flood test page" "$BIG_MB" 1
start_client() {
    local d="$WORK/client"; SOCKS=$(free_port)
    mkdir -p "$d"; chmod 700 "$d"
    {
        echo "DataDirectory $d"
        echo "Log info file $d/info.log"
        echo "SocksPort 127.0.0.1:$SOCKS"
        echo "ControlPort 0"
        echo "TestingTorNetwork 1"
        echo "PathsNeededToBuildCircuits 0.67"
        cat "$NET/dirauth-lines"
        echo "UseBridges 1"
        echo "Bridge 127.0.0.1:$PORT $FP"
        echo "MiddleNodes $(jq_net "n['relays'][1]['fingerprint']")"
        echo "ExitNodes $(jq_net "n['relays'][2]['fingerprint']")"
        echo "StrictNodes 1"
    } >"$d/torrc"
    tor -f "$d/torrc" >"$d/stdout.log" 2>&1 &
    CLIENT_PID=$!
    wait_bootstrapped "$d/info.log" 240
}
fetch() { # path out
    curl -sS --max-time 600 --retry 3 --retry-delay 2 --socks5-hostname "127.0.0.1:$SOCKS" \
        "http://www.onionmesh.test:$HTTP_PORT/$1" -o "$2"
}
same_file() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

check "tor_client_bootstraps_via_onionmesh_bridge" start_client
fetch big.bin "$WORK/big0.out"
check "download_before_floods_byte_exact" same_file "$WORK/big0.out" "$WORK/www/big.bin"
BASE_KB=$(rss_kb)
echo "# omrelay0 RSS after bootstrap and a ${BIG_MB} MB download: $((BASE_KB / 1024)) MB (peak $(($(hwm_kb) / 1024)) MB)"

# Peak RSS over a flood: /proc's VmHWM is the process's high-water mark since start, so sample.
sample_peak() { # out_file
    local peak=0 r
    while kill -0 "$RPID" 2>/dev/null; do
        r=$(rss_kb); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$1"
        sleep 0.1
    done
}
LIMIT_KB=$(((MAXMEM_MB + OVERHEAD_MB) * 1024))
flood() { # name args...
    local name=$1; shift
    echo 0 >"$WORK/peak.$name"
    sample_peak "$WORK/peak.$name" & SAMPLER_PID=$!
    NET_JSON="$NET/network.json" HTTP_PORT=$HTTP_PORT python3 tests/interop/mem_flood.py \
        "$PORT" "$@" >"$WORK/out.$name" 2>&1
    sed 's/^/# /' "$WORK/out.$name"
    sleep 1; kill "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
    local peak; peak=$(cat "$WORK/peak.$name")
    echo "# $name: omrelay0 peak RSS $((peak / 1024)) MB (bound $((LIMIT_KB / 1024)) MB), now $(($(rss_kb) / 1024)) MB"
    check "${name}_relay_alive" kill -0 "$RPID"
    check "${name}_rss_within_maxmem_plus_${OVERHEAD_MB}MB ($((peak / 1024)) MB)" [ "$peak" -le "$LIMIT_KB" ]
}
# The figure after "WORD " in a flood's summary line (out.NAME); empty if absent.
figure() { sed -n "s/.*$2 \([0-9][0-9]*\).*/\1/p" "$WORK/out.$1" | head -1; }
# 40 links x 8 MiB of CREATE2 = 320 MiB offered, nothing read back.
HOLD=15 flood create2_flood_not_reading create2 40 8
HOLD=35 flood halfopen_flood halfopen 700
# The relay's log line, and what the attacker saw: every connection closed by the relay.
halfopen_closed() {
    grep -q "Refusing links: .* in their handshake" "$NET/omrelay0/info.log" &&
        [ -n "$(figure halfopen_flood halfopen:)" ] &&
        [ "$(sed -n 's/.* \([0-9]*\) closed by the relay.*/\1/p' "$WORK/out.halfopen_flood")" = \
            "$(figure halfopen_flood halfopen:)" ]
}
check "halfopen_refused_past_limit_and_all_closed" halfopen_closed

# Every stream the attacker opened was closed by the relay: answered to the end (END DONE),
# refused or timed out (END), or on a circuit it destroyed; and there were streams.
all_streams_closed() { # name
    [ -n "$(figure "$1" unaccounted)" ] && [ "$(figure "$1" unaccounted)" = 0 ] &&
        [ "$(figure "$1" ended)" -gt 0 ]
}
# The exit's connections to the HTTP server: open during the hold (one per connected circuit),
# all closed within 15 s once the attacker's circuits are gone.
exit_conns() { ss -Htn state established "( sport = :$HTTP_PORT )" | wc -l; }
exit_streams_closed() { # name
    local open; open=$(figure "$1" open)
    [ -n "$open" ] && [ "$open" -ge "$(figure "$1" connected)" ] && [ "$open" -gt 0 ] || return 1
    for _ in $(seq 1 150); do [ "$(exit_conns)" = 0 ] && return 0; sleep 0.1; done
    return 1
}
# The exit stopped at the stream window (500 cells of 498 bytes) for a client sending no SENDME.
within_stream_window() { [ -n "$(figure "$1" most)" ] && [ "$(figure "$1" most)" -le 244 ]; }

# (a) 300 circuits x 12 BEGIN_DIR streams (4 past the per-circuit limit of 8) asking for the
# consensus, plain and .z, nothing read for 20 s.
HOLD=20 flood begindir_flood begindir 300 12
check "begindir_flood_every_stream_closed" all_streams_closed begindir_flood
# (No check of the per-circuit limit of 8 here: a test network's consensus is a few KB, so each
# answer fits in the socket buffers and its stream ends before the next opens; tests/unit/
# test_svc_dir.c holds streams open and checks that the 9th is refused.)
# (b) one client that never reads: the onionmesh relay as exit fetching 20 MB for it.
HOLD=20 flood noread_client noread 1
check "noread_client_exit_stopped_at_stream_window" within_stream_window noread_client
check "noread_client_exit_stream_closed" exit_streams_closed noread_client
# (c) sniper: 150 such circuits at once.
HOLD=20 flood sniper noread 150
check "sniper_exit_stopped_at_stream_window" within_stream_window sniper
# Once the sniper left, its circuits' streams close when the DESTROYs reach the exit. tor 0.4.9,
# the first hop here, queues those DESTROYs in its channel's circuitmux and sends only the first
# at once (circuitmux_append_destroy_cell primes the buffer but does not wake the scheduler): the
# rest leave with the next cell tor sends on that channel. So: the count while tor holds them
# (printed), then one circuit through the same relay (mode nudge), then every server connection
# must close.
echo "# sniper: exit's server connections open 5 s after the attacker left, before any other traffic on tor's channel: $(sleep 5; exit_conns)"
sniper_closed_after_nudge() {
    NET_JSON="$NET/network.json" python3 tests/interop/mem_flood.py "$PORT" nudge >"$WORK/out.nudge" 2>&1
    sed 's/^/# /' "$WORK/out.nudge"
    grep -q "nudge: .*built" "$WORK/out.nudge" || return 1
    for _ in $(seq 1 150); do [ "$(exit_conns)" = 0 ] && return 0; sleep 0.1; done
    echo "# still open: $(exit_conns)"
    return 1
}
check "sniper_exit_streams_closed_once_tor_flushes_its_destroys" sniper_closed_after_nudge

fetch big.bin "$WORK/big1.out"
check "download_after_floods_byte_exact" same_file "$WORK/big1.out" "$WORK/www/big.bin"
exit $FAILED
