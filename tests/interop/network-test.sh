#!/usr/bin/env bash
# network-test.sh — onionmesh's OP on a private Tor network of Debian tor 0.4.9 processes
# (tools/testnet: three authorities, three relays, all exits to 127.0.0.0/8), driven by real
# clients (curl, tor-resolve) and raw SOCKS input. Prints "ok - ..." / "not ok - ..." per check.
# Usage: network-test.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
OM="$ROOT/$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-nettest-XXXXXX)
NET="$WORK/net"
OP_DIR="$WORK/op"
LOG="$WORK/op.log"
OM_PID=""
HTTP_PID=""
BIG_MB=${OM_NETTEST_BIG_MB:-100}

FAILED=0
ok() { echo "ok - network/$1"; }
notok() { echo "not ok - network/$1${2:+: $2}"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }

cleanup() {
    if [ "$FAILED" = 1 ] && [ -f "$LOG" ]; then
        echo "# onionmesh warnings (last 20 of each run):"
        for l in "$WORK"/op*.log; do
            grep -E "\[(warn|err)\]|failed|retrying" "$l" | tail -20 | sed "s|^|#   $(basename "$l"): |"
        done
    fi
    [ -n "$OM_PID" ] && kill "$OM_PID" 2>/dev/null && wait "$OM_PID" 2>/dev/null
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    tools/testnet down --dir "$NET" >/dev/null 2>&1
    if [ "${OM_NETTEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

. tests/interop/testlib.sh

echo "# $(tor --version | head -1)"
if ! tools/testnet up --dir "$NET" --tor-relays 3 --clients 1 >"$WORK/testnet.log" 2>&1; then
    notok "testnet_up" "see below"; tail -30 "$WORK/testnet.log"; exit 1
fi
ok "testnet_up ($(grep -o 'ready in [0-9.]* s' "$WORK/testnet.log"))"
TOR_SOCKS=$(python3 -c "import json;print(json.load(open('$NET/network.json'))['clients'][0]['socks_port'])")

# Files served on 127.0.0.1 by a plain HTTP server.
serve_www "$WORK/www" "onionmesh network test page" "$BIG_MB" 4

start_op() {
    SOCKS=${SOCKS:-$(free_port)}
    mkdir -p "$OP_DIR"
    {
        echo "DataDirectory $OP_DIR"
        echo "SocksPort 127.0.0.1:$SOCKS"
        echo "TestingTorNetwork 1"
        echo "PathsNeededToBuildCircuits 0.67"
        echo "Log info file $LOG"
        cat "$NET/dirauth-lines"
    } >"$WORK/onionmesh.conf"
    # shellcheck disable=SC2086
    "$OM" -f "$WORK/onionmesh.conf" ${OM_EXTRA_ARGS:-} >>"$WORK/op.stdout" 2>&1 &
    OM_PID=$!
    wait_bootstrapped "$LOG" 240 "$OM_PID"
}
stop_op() { kill "$OM_PID" 2>/dev/null; wait "$OM_PID" 2>/dev/null; OM_PID=""; }

t0=$(date +%s.%N)
if start_op; then
    ok "op_bootstraps ($(python3 -c "print(round($(date +%s.%N)-$t0,1))") s)"
else
    notok "op_bootstraps" "log tail:"; tail -20 "$LOG" "$WORK/op.stdout"; exit 1
fi
PROXY="--socks5-hostname 127.0.0.1:$SOCKS"

# 1. a page, byte-exact (by address, and by a hostname the exit resolves)
curl -sS --max-time 60 $PROXY "http://127.0.0.1:$HTTP_PORT/index.html" -o "$WORK/page.out"
check "page_byte_exact" cmp -s "$WORK/page.out" "$WORK/www/index.html"
curl -s --max-time 60 $PROXY "http://www.onionmesh.test:$HTTP_PORT/index.html" -o "$WORK/pageh.out"
check "page_by_hostname_byte_exact" cmp -s "$WORK/pageh.out" "$WORK/www/index.html"

# 1a. instances are independent: two onion proxies embedded in one process (the public API),
#     each on its own event loop and thread, bootstrap and fetch the page through their own
#     circuits, alone and at once; one stops and the other still fetches
"$ROOT/$BUILD/tests/om-two-instances" "$NET/dirauth-lines" "$WORK" "$HTTP_PORT" /index.html \
    "$WORK/www/index.html" >"$WORK/two.out" 2>"$WORK/two.err"
two_rc=$?
grep -E '^(ok|not ok) - ' "$WORK/two.out" | sed 's/^\(ok\|not ok\) - /&network\//'
grep -q '^not ok' "$WORK/two.out" && FAILED=1
check "two_instances_exit_clean (status $two_rc)" [ "$two_rc" = 0 ]
#     The same under ThreadSanitizer when tools/run-tests built it (OM_TWO_INSTANCES_TSAN): the
#     instances share no mutable state, so TSan reports no data race between their threads.
if [ -n "${OM_TWO_INSTANCES_TSAN:-}" ]; then
    TSAN_OPTIONS="halt_on_error=0 exitcode=66" "$OM_TWO_INSTANCES_TSAN" "$NET/dirauth-lines" \
        "$WORK" "$HTTP_PORT" /index.html "$WORK/www/index.html" >"$WORK/two-tsan.out" \
        2>"$WORK/two-tsan.err"
    tsan_rc=$?
    races=$(grep -c 'WARNING: ThreadSanitizer' "$WORK/two-tsan.err")
    [ "$races" -gt 0 ] && grep -A8 -m2 'WARNING: ThreadSanitizer' "$WORK/two-tsan.err" | sed 's/^/# /'
    tsan_ok=$(grep -c '^ok - ' "$WORK/two-tsan.out")
    grep '^not ok' "$WORK/two-tsan.out" | sed 's/^/# tsan: /'
    # A binary without ThreadSanitizer reports no race whatever happens: it must be TSan's.
    tsan_clean() { nm "$OM_TWO_INSTANCES_TSAN" 2>/dev/null | grep -q __tsan_init &&
        [ "$races" = 0 ] && [ "$tsan_rc" = 0 ] && [ "$tsan_ok" -ge 7 ]; }
    check "two_instances_threadsanitizer_clean ($races reports, status $tsan_rc, $tsan_ok ok)" \
        tsan_clean
fi

# 1b. optimistic data: a client that sends its SOCKS request and its HTTP request in one write,
#     before any reply, gets the page (the data follows BEGIN without waiting for CONNECTED)
python3 - "$SOCKS" "$HTTP_PORT" >"$WORK/optimistic.out" 2>&1 <<'PY'
import socket, sys
port, http_port = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=60)
host = b"127.0.0.1"
req = b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([len(host)]) + host + http_port.to_bytes(2, "big")
s.sendall(req + b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
assert data[:4] == b"\x05\x00\x05\x00", data[:12]
sys.stdout.buffer.write(data[data.index(b"\r\n\r\n") + 4:])
PY
check "optimistic_data" cmp -s "$WORK/optimistic.out" "$WORK/www/index.html"

# 2. a big file, SHA-256. Every tor authority and relay logs at info level from here on, so that
#    2b can see the exit's side of congestion control.
python3 - "$NET/network.json" <<'PY'
import json, os, signal, sys
n = json.load(open(sys.argv[1]))
for node in n["authorities"] + n["relays"]:
    with open(os.path.join(node["data_dir"], "torrc"), "a") as f:
        f.write("\nLog info file %s\n" % os.path.join(node["data_dir"], "info.log"))
    os.kill(node["pid"], signal.SIGHUP)
PY
sleep 1
t0=$(date +%s.%N)
curl -sS --max-time 600 $PROXY "http://127.0.0.1:$HTTP_PORT/big.bin" -o "$WORK/big.out"
t1=$(date +%s.%N)
want=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$WORK/big.out" | cut -d' ' -f1)
rate=$(python3 -c "print(round($BIG_MB/($t1-$t0),1))")
check "big_${BIG_MB}MB_sha256 (${rate} MB/s)" [ "$want" = "$got" ]

# 2b. congestion control (proposal 324): the tor exits (FlowCtrl=2) accepted the request in the
#     ntor-v3 handshake, so the download above ran under the exit's Vegas window with our
#     SENDMEs every sendme_inc cells (a wrong one would have killed the circuit)
check "congestion_control_negotiated" grep -q "congestion control negotiated with hop 3 (sendme_inc 31)" "$LOG"
#     ... and tor's side of it: the tor node whose log has the most Vegas window updates ("CC:
#     TOR_VEGAS RTT", one per window's worth of SENDMEs: hundreds for this download) is an exit
#     of one of our circuits, i.e. the exit ran Vegas on our SENDMEs.
tor_exit_ran_vegas() {
    local best="" most=0 nick n
    for d in $(python3 -c "import json;n=json.load(open('$NET/network.json'));print(' '.join(x['nickname']+'='+x['data_dir'] for x in n['authorities']+n['relays']))"); do
        nick=${d%%=*}
        n=$(grep -c "CC: TOR_VEGAS RTT" "${d#*=}/info.log" 2>/dev/null)
        [ "${n:-0}" -gt "$most" ] && most=$n && best=$nick
    done
    echo "# most Vegas window updates: $best ($most)"
    [ "$most" -ge 50 ] && grep -q "Circuit [0-9]* built: .* -> $best (" "$LOG"
}
check "tor_exit_ran_vegas_on_our_sendmes" tor_exit_ran_vegas

# 2c. XON/XOFF: a client that reads slowly. Our buffer for it passes cc_xoff_client (244 000
#     bytes), we send XOFF, the tor exit stops reading from the server, the buffer stays bounded;
#     as it drains we send XON and the exit resumes. The bytes must be an exact prefix of the file.
python3 - "$SOCKS" "$HTTP_PORT" "$WORK/slow.out" <<'PY'
import socket, sys, time
port, http_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # keep the kernel from absorbing it
s.settimeout(60)
s.connect(("127.0.0.1", port))
host = b"127.0.0.1"
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + http_port.to_bytes(2, "big"))
r = b""
while len(r) < 10:
    r += s.recv(10 - len(r))
assert r[:2] == b"\x05\x00", r
s.sendall(b"GET /big.bin HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while len(data) < 8 * 1024 * 1024:  # about 2.5 MB/s for 8 MB
    b = s.recv(16384)
    if not b:
        break
    data += b
    time.sleep(0.006)
s.close()
open(out, "wb").write(data[data.index(b"\r\n\r\n") + 4:])
PY
sleep 1
slow_n=$(stat -c %s "$WORK/slow.out" 2>/dev/null || echo 0)
check "slow_reader_prefix_exact ($slow_n bytes)" \
    cmp -s "$WORK/slow.out" <(head -c "$slow_n" "$WORK/www/big.bin")
flow=$(grep "ended: flow control" "$LOG" | tail -1)
echo "# ${flow#*] }"
xoff=$(echo "$flow" | sed -n 's/.*sent \([0-9]*\) XOFF, \([0-9]*\) XON.*/\1/p')
xon=$(echo "$flow" | sed -n 's/.*sent \([0-9]*\) XOFF, \([0-9]*\) XON.*/\2/p')
peak=$(echo "$flow" | sed -n 's/.*peak buffered \([0-9]*\) bytes.*/\1/p')
# Without XOFF the exit would keep sending at full speed (~10 MB/s vs 2.5 read): several MB.
slow_ok() { [ "${xoff:-0}" -ge 1 ] && [ "${xon:-0}" -ge 1 ] && [ "${peak:-99999999}" -lt 2000000 ]; }
check "slow_reader_xoff_xon (XOFF ${xoff:-?}, XON ${xon:-?}, peak ${peak:-?} B)" slow_ok

# 3. 20 concurrent downloads on one proxy, all byte-exact
pids=()
for i in $(seq 1 20); do
    curl -s --max-time 300 $PROXY --proxy-user "u$((i % 4)):p" "http://127.0.0.1:$HTTP_PORT/mid.bin" \
        -o "$WORK/conc.$i" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
want=$(sha256sum <"$WORK/www/mid.bin" | cut -d' ' -f1)
bad=0
for i in $(seq 1 20); do
    [ "$(sha256sum <"$WORK/conc.$i" | cut -d' ' -f1)" = "$want" ] || bad=$((bad + 1))
done
check "20_concurrent_byte_exact ($bad bad)" [ "$bad" -eq 0 ]

# 3b. stream isolation by SOCKS username/password (IsolateSOCKSAuth): different credentials never
#     share a circuit, equal credentials do (while the circuit is clean enough)
for u in alice bob alice; do
    curl -s --max-time 60 $PROXY --proxy-user "$u:pw" "http://127.0.0.1:$HTTP_PORT/index.html" -o /dev/null
done
circ_of() { grep "isolation \"$1:pw\") attached" "$LOG" | awk '{print $NF}' | sort -u; }
a=$(circ_of alice); b=$(circ_of bob)
iso=0
[ -n "$a" ] && [ -n "$b" ] && [ "$(echo "$a" | wc -l)" = 1 ] && ! grep -qx "$a" <<<"$b" && iso=1
check "isolation_by_socks_auth (alice: $(echo $a), bob: $(echo $b))" [ "$iso" = 1 ]

# 4. tor-resolve through our SOCKS port (tor's RESOLVE extension)
# (the exits resolve through the test network's DNS responder, tools/testnet-dns)
res=$(timeout 60 tor-resolve www.onionmesh.test "127.0.0.1:$SOCKS" 2>&1)
check "tor_resolve_name ($res)" [ "$res" = "127.0.0.1" ]
# ... and the same answer as a tor client on the same network gives
res_tor=$(timeout 60 tor-resolve www.onionmesh.test "127.0.0.1:$TOR_SOCKS" 2>&1)
check "tor_resolve_matches_tor_client ($res_tor)" [ "$res" = "$res_tor" ]

# 5. bad SOCKS input gets the right error or a closed connection; the proxy keeps serving
python3 - "$SOCKS" >"$WORK/socks-bad.out" 2>&1 <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
def talk(data, read=64):
    # Send, half-close (so a truncated request ends in EOF), read what comes back until close.
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while len(out) < read:
            b = s.recv(read - len(out))
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        out += b"!"
    s.close()
    return out
res = {}
res["wrong_version"] = talk(b"\x06\x01\x00")                      # expect close, no reply
res["truncated"] = talk(b"\x05\x01\x00\x05\x01\x00\x03\x10ab", 12)  # expect method reply then close
long = b"a" * 255
res["oversized_socks4a_host"] = talk(b"\x04\x01\x00\x50\x00\x00\x00\x01u\x00" + b"a" * 400 + b"\x00")
res["bind_command"] = talk(b"\x05\x01\x00" + b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50")
res["udp_command"] = talk(b"\x05\x01\x00" + b"\x05\x03\x00\x01\x7f\x00\x00\x01\x00\x50")
res["bad_atyp"] = talk(b"\x05\x01\x00" + b"\x05\x01\x00\x09\x7f\x00\x00\x01\x00\x50")
for k, v in res.items():
    print(k, v.hex())
PY
ok_bad=1
grep -q "^wrong_version $" "$WORK/socks-bad.out" || ok_bad=0
grep -q "^truncated 0500$" "$WORK/socks-bad.out" || ok_bad=0
grep -q "^oversized_socks4a_host 005b" "$WORK/socks-bad.out" || ok_bad=0
grep -q "^bind_command 05000507" "$WORK/socks-bad.out" || ok_bad=0
grep -q "^udp_command 05000507" "$WORK/socks-bad.out" || ok_bad=0
grep -q "^bad_atyp 05000508" "$WORK/socks-bad.out" || ok_bad=0
check "bad_socks_input_errors" [ "$ok_bad" = 1 ] || cat "$WORK/socks-bad.out"
curl -s --max-time 60 $PROXY "http://127.0.0.1:$HTTP_PORT/index.html" -o "$WORK/page2.out"
check "still_serving_after_bad_input" cmp -s "$WORK/page2.out" "$WORK/www/index.html"

# 6. a BEGIN to a closed port fails at once with the same SOCKS reply tor's own client gives
#    (tor exits answer END MISC there; tor-spec 6.3 lets them), and is not retried forever
closed=$(free_port)
msg=$(curl -sS --max-time 60 $PROXY "http://127.0.0.1:$closed/" 2>&1)
msg_tor=$(curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$TOR_SOCKS" "http://127.0.0.1:$closed/" 2>&1)
echo "# onionmesh: $msg"
echo "# tor:       $msg_tor"
same=0
[ -n "$msg" ] && [ "$msg" = "$msg_tor" ] && same=1
check "closed_port_same_error_as_tor" [ "$same" = 1 ]

# 7. a relay killed in the middle of a download: the next request succeeds on a new circuit
curl -s --max-time 120 $PROXY --limit-rate 2M "http://127.0.0.1:$HTTP_PORT/big.bin" -o /dev/null &
cpid=$!
sleep 3
victim=$(python3 -c "import json;n=json.load(open('$NET/network.json'));print(n['relays'][0]['pid'])")
kill -9 "$victim" 2>/dev/null
wait "$cpid" 2>/dev/null
curl -s --max-time 180 $PROXY "http://127.0.0.1:$HTTP_PORT/mid.bin" -o "$WORK/after-kill.out"
want=$(sha256sum <"$WORK/www/mid.bin" | cut -d' ' -f1)
check "request_after_relay_killed" [ "$(sha256sum <"$WORK/after-kill.out" | cut -d' ' -f1)" = "$want" ]

# 8. restart: the cache is used (no microdescriptors re-downloaded while valid)
stop_op
LOG="$WORK/op-restart.log"
start_op
check "restart_uses_cache" grep -q "Loaded [1-9][0-9]* cached microdescriptors" "$LOG"

# 9. a consensus with a forged signature in the cache is rejected with a clear log line
stop_op
python3 - "$OP_DIR/cached-microdesc-consensus" <<'PY'
import sys, re
p = sys.argv[1]
t = open(p).read()
# Forge: raise a relay's bandwidth in the signed part, keeping the authorities' signatures.
t2 = re.sub(r"\nw Bandwidth=(\d+)", lambda m: "\nw Bandwidth=" + str(int(m.group(1)) + 7777), t, count=1)
assert t2 != t
open(p, "w").write(t2)
PY
LOG="$WORK/op-forged.log"
start_op
check "forged_consensus_rejected" grep -q "Rejected the microdesc consensus from the cache" "$LOG"
grep "Rejected the microdesc consensus" "$LOG" | head -1 | sed 's/^/# /'
curl -s --max-time 60 $PROXY "http://127.0.0.1:$HTTP_PORT/index.html" -o "$WORK/page3.out"
check "works_after_refetching_consensus" cmp -s "$WORK/page3.out" "$WORK/www/index.html"

# 10. fixed windows (CongestionControl 0, what we fall back to when an exit lacks FlowCtrl=2):
#     circuit and stream windows with authenticated SENDMEs, byte-exact
stop_op
LOG="$WORK/op-fixed.log"
OM_EXTRA_ARGS="--CongestionControl 0" start_op
curl -s --max-time 180 $PROXY "http://127.0.0.1:$HTTP_PORT/mid.bin" -o "$WORK/fixed.out"
want=$(sha256sum <"$WORK/www/mid.bin" | cut -d' ' -f1)
fixed_ok() {
    [ "$(sha256sum <"$WORK/fixed.out" | cut -d' ' -f1)" = "$want" ] &&
        ! grep -q "congestion control negotiated" "$LOG"
}
check "fixed_windows_byte_exact" fixed_ok
