#!/usr/bin/env bash
# relay-network-test.sh — onionmesh as a relay (OR) in a private Tor network of Debian tor 0.4.9:
# three tor authorities, three tor relays and three onionmesh relays (tools/testnet), used by tor
# 0.4.9 clients. Proves: the authorities list our relays Running/Valid (Guard, Exit, V2Dir as
# voted) and serve our extra-info documents as our descriptors name them, a tor client bootstraps from an onionmesh relay's directory cache and fetches through
# three onionmesh relays (guard, middle, exit) byte-exact (page and a big file), mixed paths (tor
# guard -> onionmesh middle -> tor exit; onionmesh guard -> tor middle -> onionmesh exit), our OP
# through onionmesh relays only, END EXITPOLICY from an onionmesh exit (the circuit stays usable)
# and private addresses refused by default, a restarted relay keeps its identity and its place in
# the consensus, and hostile ORPort input closes only the offending link while downloads go on.
# Prints "ok - ..." / "not ok - ..." per check. Usage: relay-network-test.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
case "$BUILD" in /*) OM="$BUILD/onionmesh" ;; *) OM="$ROOT/$BUILD/onionmesh" ;; esac
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
    --tor-relay-ipv6 --onionmesh-bin "$OM" \
    --authority-option "AuthDirVoteStableGuaranteeMinUptime 0" >"$WORK/testnet.log" 2>&1; then
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
        for f in Running Valid Guard Exit V2Dir Stable Fast; do
            echo " $fl " | grep -q " $f " || { echo "# omrelay$i flags: $fl (no $f)"; return 1; }
        done
    done
    echo "$c" | grep -A2 "^r omrelay0 " | grep -q "^pr .*LinkAuth=3.*Relay=2,4"
}
for _ in $(seq 1 30); do listed_ok >/dev/null 2>&1 && break; sleep 2; done
check "consensus_lists_onionmesh_relays_running_valid_guard_exit_v2dir" listed_ok

# 1b. every authority accepted each onionmesh relay's extra-info document (dir-spec 3.2: kept only
#     if a descriptor it holds names its digest): /tor/extra/fp/FP serves it; it is ours (our
#     nickname and fingerprint, the published time and identity-ed25519 of our descriptor, and
#     a router-signature that verifies under our descriptor's signing-key, whose SHA-1 is our
#     fingerprint); the authority's copy of our descriptor has extra-info-digest = upper-case hex
#     SHA-1 of the document up to and including "router-signature\n" and unpadded base64 SHA-256
#     of the whole document (dir-spec 2.1.1).
extra_info_one() { # authority_dir_port relay_index
    local fp; fp=$(om_fp "$2")
    curl -s --max-time 10 "http://127.0.0.1:$1/tor/extra/fp/$fp" -o "$WORK/ei.txt" || return 1
    curl -s --max-time 10 "http://127.0.0.1:$1/tor/server/fp/$fp" -o "$WORK/sd.txt" || return 1
    python3 - "$WORK/ei.txt" "$WORK/sd.txt" "omrelay$2" "$fp" "$WORK" <<'PY'
import base64, hashlib, re, subprocess, sys
ei, sd = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
nick, fp, work = sys.argv[3], sys.argv[4], sys.argv[5]
def fail(why):
    print("# %s: %s" % (nick, why)); sys.exit(1)
if not ei.startswith(b"extra-info %s %s\n" % (nick.encode(), fp.encode())):
    fail("served extra-info starts %r" % ei[:80])
def line(doc, kw):
    m = re.search(rb"^" + kw + rb" (.*)$", doc, re.M)
    return m.group(1) if m else None
def obj(doc, kw):
    m = re.search(rb"^" + kw + rb"\n(-----BEGIN ([A-Z0-9 ]+)-----\n.*?-----END \2-----\n)", doc, re.M | re.S)
    return m.group(1) if m else None
if not line(ei, b"published") or line(ei, b"published") != line(sd, b"published"):
    fail("published %r, descriptor's %r" % (line(ei, b"published"), line(sd, b"published")))
if not obj(ei, b"identity-ed25519") or obj(ei, b"identity-ed25519") != obj(sd, b"identity-ed25519"):
    fail("identity-ed25519 differs from the descriptor's")
end = ei.find(b"\nrouter-signature\n")
if end < 0: fail("no router-signature")
end += len(b"\nrouter-signature\n")
key = obj(sd, b"signing-key")
der = base64.b64decode(b"".join(key.split(b"\n")[1:-2]))
if hashlib.sha1(der).hexdigest().upper() != fp: fail("signing-key is not our identity")
open(work + "/key.pem", "wb").write(key)
open(work + "/sig.bin", "wb").write(base64.b64decode(b"".join(ei[end:].split(b"\n")[1:-2])))
rec = subprocess.run(["openssl", "pkeyutl", "-verifyrecover", "-pubin", "-inkey", work + "/key.pem",
                      "-in", work + "/sig.bin"], capture_output=True).stdout
sha1 = hashlib.sha1(ei[:end])
if rec != sha1.digest(): fail("router-signature does not verify under our signing-key")
want = "%s %s" % (sha1.hexdigest().upper(),
                  base64.b64encode(hashlib.sha256(ei).digest()).decode().rstrip("="))
got = (line(sd, b"extra-info-digest") or b"").decode()
if got != want: fail("descriptor's extra-info-digest %r, the served document's digests %r" % (got, want))
if nick == "omrelay0":
    print("# served: extra-info %s %s, published %s, %d bytes; extra-info-digest %s"
          % (nick, fp, line(ei, b"published").decode(), len(ei), got))
PY
}
extra_info_accepted() {
    local i a port
    for a in 0 1 2; do
        port=$(jq_net "n['authorities'][$a]['dir_port']")
        for i in 0 1 2; do
            extra_info_one "$port" "$i" >"$WORK/ei_check.out" || { cat "$WORK/ei_check.out"; echo "# at auth$a"; return 1; }
            [ "$a$i" = 00 ] && cat "$WORK/ei_check.out"
        done
    done
    return 0
}
# (a relay may upload a new descriptor between the two fetches: retry a few times)
for _ in $(seq 1 5); do extra_info_accepted >/dev/null 2>&1 && break; sleep 2; done
check "extra_info_accepted_by_authority" extra_info_accepted

# HTTP server for the downloads
serve_www "$WORK/www" "onionmesh relay test page" "$BIG_MB" 2

# A tor client whose first hop is a bridge (bridge users need no Guard/Fast/Stable flags and
# fetch all directory information from their bridge), with pinned middle and exit. With
# bridge_port "entry", bridge_fp is the client's only guard (EntryNodes) instead: tor picks
# guards only among relays voted Guard, Stable, Fast, Valid and V2Dir (the authorities vote
# every relay Stable here: AuthDirVoteStableGuaranteeMinUptime 0).
start_client() { # name bridge_port bridge_fp middle exit -> sets SOCKS_<name>
    local name=$1 d="$WORK/$1" port first; port=$(free_port)
    first=$(printf 'UseBridges 1\nBridge 127.0.0.1:%s %s' "$2" "$3")
    [ "$2" = entry ] && first="EntryNodes $3"
    mkdir -p "$d"; chmod 700 "$d"
    {
        echo "DataDirectory $d"
        echo "Log info file $d/info.log"
        echo "SocksPort 127.0.0.1:$port"
        echo "ControlPort 0"
        echo "TestingTorNetwork 1"
        echo "PathsNeededToBuildCircuits 0.67"
        cat "$NET/dirauth-lines"
        echo "$first"
        echo "MiddleNodes $4"
        echo "ExitNodes $5"
        echo "StrictNodes 1"
    } >"$d/torrc"
    tor -f "$d/torrc" >"$d/stdout.log" 2>&1 &
    CLIENT_PIDS="$CLIENT_PIDS $!"
    eval "SOCKS_$name=$port"
    wait_bootstrapped "$d/info.log"
}
# By a name the exits resolve (testnet DNS): with an address, tor would pick the relay that has
# that address (all have 127.0.0.1) as the exit itself ("exit enclave").
fetch() { # socks_port path out
    curl -sS --max-time 600 --retry 3 --retry-delay 2 --socks5-hostname "127.0.0.1:$1" \
        "http://www.onionmesh.test:$HTTP_PORT/$2" -o "$3"
}
same_file() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

# 2. three onionmesh relays: tor client -> omrelay0 (bridge, directory cache) -> omrelay1 ->
#    omrelay2 (exit)
check "tor_client_bootstraps_via_onionmesh_bridge" \
    start_client clientA "$(om_port 0)" "$(om_fp 0)" "$(om_fp 1)" "$(om_fp 2)"
served_consensus() {
    grep -q "Received consensus directory .* from server 127.0.0.1:$(om_port 0)" "$WORK/clientA/info.log"
}
check "tor_client_got_consensus_from_onionmesh_dircache" served_consensus
fetch "$SOCKS_clientA" index.html "$WORK/a_page.out"
check "three_onionmesh_relays_page_byte_exact" cmp -s "$WORK/a_page.out" "$WORK/www/index.html"
# The same path with omrelay0 as the client's guard (EntryNodes/MiddleNodes/ExitNodes): a page
# and the big file, and each onionmesh relay wrote at least the file's size to its sockets.
check "tor_client_bootstraps_with_onionmesh_entry_guard" \
    start_client clientE entry "$(om_fp 0)" "$(om_fp 1)" "$(om_fp 2)"
fetch "$SOCKS_clientE" index.html "$WORK/e_page.out"
check "entry_guard_path_page_byte_exact" cmp -s "$WORK/e_page.out" "$WORK/www/index.html"
om_written() { sed -n 's/^wchar: //p' "/proc/$(jq_net "n['onionmesh_relays'][$1]['pid']")/io" 2>/dev/null || echo 0; }
w_before="$(om_written 0) $(om_written 1) $(om_written 2)"
t0=$(date +%s.%N)
fetch "$SOCKS_clientE" big.bin "$WORK/e_big.out"
t1=$(date +%s.%N)
rate=$(python3 -c "print(round($BIG_MB/($t1-$t0),1))")
w_after="$(om_written 0) $(om_written 1) $(om_written 2)"
big_through_all() {
    same_file "$WORK/e_big.out" "$WORK/www/big.bin" || return 1
    python3 -c "
import sys
b, a, size = [int(x) for x in '$w_before'.split()], [int(x) for x in '$w_after'.split()], $BIG_MB << 20
sys.exit(0 if all(y - x >= size for x, y in zip(b, a)) else 1)"
}
check "three_onionmesh_relays_${BIG_MB}MB_sha256 (${rate} MB/s, EntryNodes)" big_through_all
# The tor client asked our exit for congestion control (we publish FlowCtrl=1-2) and got it: the
# download above ran under the client's SENDMEs every sendme_inc cells, each checked (a wrong
# one closes the circuit).
check "exit_granted_congestion_control" grep -q "congestion control granted (sendme_inc 31)" "$NET/omrelay2/info.log"
# XON/XOFF at our exit: a client reading 8 MB at ~2.5 MB/s makes the tor client send XOFF/XON;
# the exit stops and resumes reading from the server; the bytes are an exact prefix.
python3 - "$SOCKS_clientA" "$HTTP_PORT" "$WORK/slow.out" <<'PY'
import socket, sys, time
port, http_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
s.settimeout(120)
s.connect(("127.0.0.1", port))
host = b"www.onionmesh.test"
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + http_port.to_bytes(2, "big"))
r = s.recv(10)
assert r[1] == 0, r
s.sendall(b"GET /big.bin HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while len(data) < 8 * 1024 * 1024:
    b = s.recv(16384)
    if not b:
        break
    data += b
    time.sleep(len(b) / 2.5e6)
s.close()
open(out, "wb").write(data[data.index(b"\r\n\r\n") + 4:])
PY
slow_ok() {
    local n; n=$(stat -c %s "$WORK/slow.out" 2>/dev/null || echo 0)
    [ "$n" -gt 4000000 ] && cmp -s "$WORK/slow.out" <(head -c "$n" "$WORK/www/big.bin") || return 1
    sleep 2
    grep "flow control got [1-9][0-9]* XOFF" "$NET/omrelay2/info.log" | tail -1 | sed 's/^.*\(flow control.*\)/# omrelay2: \1/'
    grep -q "flow control got [1-9][0-9]* XOFF, [1-9][0-9]* XON" "$NET/omrelay2/info.log"
}
check "exit_obeys_xoff_xon_slow_reader_prefix_exact" slow_ok

# 3. mixed paths. onionmesh as middle: tor client -> relay0 (tor) -> omrelay1 -> relay2 (tor
#    exit): the tor exit serves the stream only if omrelay1 proved itself a relay with
#    AUTHENTICATE. onionmesh as guard and exit around a tor middle: omrelay0 -> relay1 -> omrelay2.
if start_client clientB "$(tor_port 0)" "$(tor_fp 0)" "$(om_fp 1)" "$(tor_fp 2)"; then
    fetch "$SOCKS_clientB" mid.bin "$WORK/b_mid.out"
    check "middle_byte_exact (tor guard -> onionmesh middle -> tor exit)" \
        same_file "$WORK/b_mid.out" "$WORK/www/mid.bin"
else
    notok "middle_client_bootstraps"
fi
if start_client clientC "$(om_port 0)" "$(om_fp 0)" "$(tor_fp 1)" "$(om_fp 2)"; then
    fetch "$SOCKS_clientC" mid.bin "$WORK/c_mid.out"
    check "guard_exit_byte_exact (onionmesh guard -> tor middle -> onionmesh exit)" \
        same_file "$WORK/c_mid.out" "$WORK/www/mid.bin"
else
    notok "guard_exit_client_bootstraps"
fi

# 3b. onionmesh's OP through onionmesh relays only
OP_DIR="$WORK/op"
mkdir -p "$OP_DIR"
OP_SOCKS=$(free_port)
start_op() {
    {
        echo "DataDirectory $OP_DIR"
        echo "SocksPort 127.0.0.1:$OP_SOCKS"
        echo "TestingTorNetwork 1"
        echo "PathsNeededToBuildCircuits 0.67"
        echo "Log info file $OP_DIR/info.log"
        echo "SafeLogging 0" # circ_of below reads stream destinations from the log
        cat "$NET/dirauth-lines"
        echo "EntryNodes $(om_fp 0)"
        echo "MiddleNodes $(om_fp 1)"
        echo "ExitNodes $(om_fp 2)"
        echo "StrictNodes 1"
    } >"$OP_DIR/onionmesh.conf"
    "$OM" -f "$OP_DIR/onionmesh.conf" >"$OP_DIR/stdout.log" 2>&1 &
    OP_PID=$!
    CLIENT_PIDS="$CLIENT_PIDS $OP_PID"
    wait_bootstrapped "$OP_DIR/info.log"
}
if start_op; then
    fetch "$OP_SOCKS" mid.bin "$WORK/op_mid.out"
    check "onionmesh_op_through_onionmesh_relays_byte_exact" same_file "$WORK/op_mid.out" "$WORK/www/mid.bin"
else
    notok "onionmesh_op_bootstraps"
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
fetch "$SOCKS_clientC" mid.bin "$WORK/a_mid.out"
check "still_serving_after_hostile_input" same_file "$WORK/a_mid.out" "$WORK/www/mid.bin"

# 5. a restarted relay keeps its identity and stays in the consensus
# Stop omrelayN and start it again from its torrc with extra arguments; network.json gets the
# new pid (so 'testnet down' stops it). Returns once the new process logged its exit policy.
restart_omrelay() { # N [onionmesh arguments...]
    local n=$1 pid newpid; shift
    pid=$(jq_net "n['onionmesh_relays'][$n]['pid']")
    local started; started=$(grep -c "Exit relay: policy" "$NET/omrelay$n/info.log" 2>/dev/null)
    kill "$pid"; for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    "$OM" -f "$NET/omrelay$n/torrc" "$@" >>"$NET/omrelay$n/stdout.log" 2>&1 &
    newpid=$!
    python3 - "$NET/network.json" "$n" "$newpid" <<'PY'
import json, sys
p, i, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = json.load(open(p)); n["onionmesh_relays"][i]["pid"] = pid; n["pids"].append(pid)
json.dump(n, open(p, "w"), indent=1)
PY
    # info.log is appended to: wait for the new process's own start-up line.
    for _ in $(seq 1 300); do
        [ "$(grep -c "Exit relay: policy" "$NET/omrelay$n/info.log" 2>/dev/null)" -gt "${started:-0}" ] && break
        sleep 0.1
    done
}
FP2=$(om_fp 2)
restart_omrelay 2
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

# 5b. ORPort self-test (AssumeReachable 0, tor's default outside test networks): omrelay2 builds
#     a circuit through two relays of the consensus (tor's or ours) back to its own address, publishing only
#     after that circuit's ntor-v3 handshake with its own key completed (proof a relay out there
#     extended to it); advertising an address nobody can reach, it publishes nothing.
self_test_line() { grep -c "Self-testing indicates your ORPort 127.0.0.1:$(jq_net "n['onionmesh_relays'][2]['or_port']") is reachable" "$NET/omrelay2/info.log"; }
uploads() { grep -c "Uploading our descriptor" "$NET/omrelay2/info.log"; }
before_ok=$(self_test_line); before_up=$(uploads)
restart_omrelay 2 --AssumeReachable 0
self_test_ok() {
    for _ in $(seq 1 900); do
        if [ "$(self_test_line)" -gt "$before_ok" ] && [ "$(uploads)" -gt "$before_up" ]; then
            # the upload came after the self-test, not before
            awk '/Self-testing indicates your ORPort/{st=NR} /Uploading our descriptor/{up=NR} END{exit !(st && up > st)}' "$NET/omrelay2/info.log"
            return
        fi
        sleep 0.2
    done
    return 1
}
check "orport_self_test_through_relays_then_publish" self_test_ok
fails_before=$(grep -c "ORPort self-test failed" "$NET/omrelay2/info.log")
ups_before=$(uploads)
restart_omrelay 2 --AssumeReachable 0 --Address 127.0.0.9
unreachable_ok() {
    # The restarted relay first fetches a consensus to pick hops from (slow under ASan).
    for _ in $(seq 1 900); do
        [ "$(grep -c "ORPort self-test failed" "$NET/omrelay2/info.log")" -gt "$fails_before" ] && break
        sleep 0.2
    done
    local ok=0
    [ "$(grep -c "ORPort self-test failed" "$NET/omrelay2/info.log")" -gt "$fails_before" ] &&
        [ "$(uploads)" = "$ups_before" ] && ok=1
    [ "$ok" = 1 ] || grep -E "self-test|Self-testing|Uploading our descriptor" "$NET/omrelay2/info.log" |
        tail -6 | sed 's/^/# omrelay2: /'
    [ "$ok" = 1 ]
}
check "unreachable_address_not_published" unreachable_ok

# 6. exit policy at an onionmesh exit. omrelay2 restarted with a policy that rejects one port on
#    127.0.0.1: a BEGIN there gets END EXITPOLICY (our OP answers SOCKS 0x02, "not allowed by
#    ruleset", as tor's client does), and the next stream on the same circuit is served.
socks_code() { # port host path -> curl's SOCKS failure code (empty on success)
    curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$OP_SOCKS" "http://$1:$2/$3" -o /dev/null 2>&1 |
        sed -n 's/.*Can.t complete SOCKS5 connection to .*(\([0-9]*\)).*/\1/p'
}
REJ_PORT=$(free_port)
: >"$NET/omrelay2/info.log"
restart_omrelay 2 --ExitPolicy "reject 127.0.0.1:$REJ_PORT,accept 127.0.0.0/8:*" \
    --MyFamily "$(om_fp 1),\$$(om_fp 0)"
sleep 2
code=$(socks_code www.onionmesh.test "$REJ_PORT" index.html)
check "exit_policy_reject_gives_end_exitpolicy (SOCKS code ${code:-none})" [ "$code" = 2 ]
fetch "$OP_SOCKS" index.html "$WORK/op_after_reject.out"
circ_of() { grep "Stream to www.onionmesh.test:$1 " "$OP_DIR/info.log" | tail -1 | sed -n 's/.*attached to circuit \([0-9]*\).*/\1/p'; }
same_circuit() {
    [ -n "$(circ_of "$REJ_PORT")" ] && [ "$(circ_of "$REJ_PORT")" = "$(circ_of "$HTTP_PORT")" ] &&
        cmp -s "$WORK/op_after_reject.out" "$WORK/www/index.html"
}
check "circuit_usable_after_exitpolicy_end" same_circuit
check "exit_logged_policy_refusal" grep -q "127.0.0.1:$REJ_PORT refused by our exit policy\|www.onionmesh.test:$REJ_PORT refused by our exit policy" "$NET/omrelay2/info.log"
# The new descriptor (policy and MyFamily changed) reached the authority: family sorted, as "$HEX".
want_family="family $(printf '%s\n' "\$$(om_fp 0)" "\$$(om_fp 1)" | sort | tr '\n' ' ' | sed 's/ $//')"
family_ok() {
    for _ in $(seq 1 20); do
        curl -s --max-time 10 "http://127.0.0.1:$AUTH_DIR/tor/server/fp/$(om_fp 2)" |
            grep -qx "$want_family" && return 0
        sleep 1
    done
    return 1
}
check "descriptor_family_and_new_policy_accepted" family_ok
# ExitPolicyRejectPrivate (default 1): 127.0.0.1 is private, so even "accept 127.0.0.0/8:*"
# after the private rejects does not let the stream out.
restart_omrelay 2 --ExitPolicyRejectPrivate 1
sleep 2
code=$(socks_code www.onionmesh.test "$HTTP_PORT" index.html)
check "private_address_refused_by_default (SOCKS code ${code:-none})" [ "$code" = 2 ]

# 6b. EXTEND2 with only IPv6 link specifiers (tor-spec 5.1.2). onionmesh-probe (from the same
#     build dir) builds probe -> omrelay0 (CREATE_FAST) -> a tor relay at [::1] (EXTEND2 with IPv6,
#     RSA and Ed25519 specifiers, no IPv4; ntor-v3), then fetches that relay's own descriptor at
#     hop 2 and checks its identities. First relay0 at its or-address [::1]:PORT
#     (--tor-relay-ipv6): omrelay0 has a link to it by now and reuses it (one link per identity,
#     tor-spec 5.3.1). Then relay6, a tor relay started here with an IPv6 ORPort, unpublished and
#     excluding omrelay0 from its own circuits, so omrelay0 has no link to it: the IPv6 link must
#     be opened, as omrelay0's info.log and relay6's log show.
PROBE="$(dirname "$OM")/tools/onionmesh-probe"
probe_extend6() { # out [::1]:PORT rsa_fp ed25519 ntor_key
    "$PROBE" "127.0.0.1:$(om_port 0)" --no-circuits --extend-ipv6 "$2" "$3" "$4" "$5" >"$1" 2>&1
    local rc=$?
    grep -E "EXTEND2|BEGIN_DIR|hop 2|LINK|cannot" "$1" | sed 's/^ */# /'
    [ "$rc" = 0 ] && grep -q "EXTENDED2: hop 2 at \[::1\]:${2##*:} " "$1" &&
        grep -q "relay $3 proved over the IPv6-only extend" "$1"
}
start_relay6() { # -> R6_DIR, R6_PORT6 (its pid joins CLIENT_PIDS)
    R6_DIR="$WORK/relay6"
    mkdir -p "$R6_DIR" && chmod 700 "$R6_DIR"
    R6_PORT6=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET6);s.bind(("::1",0));print(s.getsockname()[1])')
    {
        echo "DataDirectory $R6_DIR"
        echo "Log info file $R6_DIR/info.log"
        echo "SafeLogging 0"
        echo "SocksPort 0"
        echo "ControlPort 0"
        echo "TestingTorNetwork 1"
        cat "$NET/dirauth-lines"
        echo "Nickname relay6"
        echo "Address 127.0.0.1"
        echo "ORPort 127.0.0.1:$(free_port)"
        echo "ORPort [::1]:$R6_PORT6"
        echo "AssumeReachable 1"
        echo "AssumeReachableIPv6 1"
        echo "PublishServerDescriptor 0"
        echo "ExcludeNodes $(om_fp 0)"
        echo "StrictNodes 1"
    } >"$R6_DIR/torrc"
    tor -f "$R6_DIR/torrc" --defaults-torrc "$NET/empty-torrc" >"$R6_DIR/stdout.log" 2>&1 &
    R6_PID=$!
    CLIENT_PIDS="$CLIENT_PIDS $R6_PID"
    wait_bootstrapped "$R6_DIR/info.log"
}
extend2_ipv6_ok() {
    if ! python3 -c 'import socket;socket.socket(socket.AF_INET6).bind(("::1",0))' 2>/dev/null; then
        echo "# this machine cannot bind [::1] (no IPv6 loopback): IPv6 extends cannot be tested"
        return 1
    fi
    [ -x "$PROBE" ] || { echo "# no probe at $PROBE"; return 1; }
    local p6 desc ed ntor
    p6=$(jq_net "n['relays'][0].get('ipv6_or_port', '')")
    [ -n "$p6" ] || { echo "# relay0 has no [::1] ORPort (testnet.log: $(grep -i ipv6 "$WORK/testnet.log"))"; return 1; }
    desc=$(curl -s --max-time 10 "http://127.0.0.1:$AUTH_DIR/tor/server/fp/$(tor_fp 0)")
    echo "$desc" | grep -qx "or-address \[::1\]:$p6" ||
        { echo "# relay0's descriptor at the authority has no or-address [::1]:$p6"; return 1; }
    ed=$(echo "$desc" | sed -n 's/^master-key-ed25519 //p')
    ntor=$(echo "$desc" | sed -n 's/^ntor-onion-key //p')
    probe_extend6 "$WORK/extend6_relay0.out" "[::1]:$p6" "$(tor_fp 0)" "$ed" "$ntor" || return 1
    if grep -q "Link to \[::1\]:$p6 open" "$NET/omrelay0/info.log"; then
        echo "# omrelay0 opened a link to relay0 at [::1]:$p6"
    else
        echo "# omrelay0 reused its link to relay0 (one link per identity)"
    fi
    start_relay6 || { echo "# relay6 did not bootstrap"; tail -3 "$R6_DIR/info.log"; return 1; }
    ntor=$(python3 -c "import base64,sys;print(base64.b64encode(open(sys.argv[1],'rb').read()[-32:]).decode())" \
        "$R6_DIR/keys/secret_onion_key_ntor")
    probe_extend6 "$WORK/extend6_relay6.out" "[::1]:$R6_PORT6" "$(cut -d' ' -f2 "$R6_DIR/fingerprint")" \
        "$(cut -d' ' -f2 "$R6_DIR/fingerprint-ed25519")" "$ntor" || return 1
    sleep 1
    grep "Link to \[::1\]:$R6_PORT6 open" "$NET/omrelay0/info.log" | sed 's/^/# omrelay0: /'
    grep "Got good NETINFO cell on OR connection (open) with \[::1\]:.*RSA_ID=$(om_fp 0)" "$R6_DIR/info.log" |
        sed 's/^.*\(Got good NETINFO[^;]*\);.*/# relay6: \1/'
    grep -q "Link to \[::1\]:$R6_PORT6 open" "$NET/omrelay0/info.log" &&
        grep -q "Got good NETINFO cell on OR connection (open) with \[::1\]:.*RSA_ID=$(om_fp 0)" "$R6_DIR/info.log"
}
check "extend2_to_ipv6_only_tor_relay" extend2_ipv6_ok
# Our relay's NETINFO (as the initiator of that link) carries the time (tor-spec 4.5: relays
# send it): tor accepted the cell and found no clock skew (with time 0 it logged "Received
# NETINFO cell with skewed time (OR:[::1]:...): ... ahead by 20787 days").
netinfo_ok() {
    grep -q "Got good NETINFO cell .*RSA_ID=$(om_fp 0)" "$R6_DIR/info.log" &&
        ! grep -q "NETINFO cell with skewed time (OR:\[::1\]" "$R6_DIR/info.log"
}
check "relay_netinfo_gives_the_time" netinfo_ok
[ -n "${R6_PID:-}" ] && kill "$R6_PID" 2>/dev/null

# 7. bandwidth. After the downloads the relays have seen traffic: omrelay0 uploads a descriptor
#    with a non-zero observed bandwidth (tor's rule: republish when it leaves zero) and the
#    authority serves that descriptor. Then omrelay1 restarted with RelayBandwidthRate 200 KB
#    (burst 200 KB): a 2 MB download through it as the middle (tor client B, tor exit: omrelay2
#    now refuses private addresses) cannot take less than about 9 s (checked: 5 s).
observed_bw() {
    curl -s --max-time 10 "http://127.0.0.1:$AUTH_DIR/tor/server/fp/$(om_fp 0)" |
        sed -n 's/^bandwidth [0-9]* [0-9]* \([0-9]*\)$/\1/p' | tail -1
}
for _ in $(seq 1 45); do [ "$(observed_bw)" -gt 0 ] 2>/dev/null && break; sleep 2; done
obs=$(observed_bw)
check "observed_bandwidth_published (${obs:-?} bytes/s)" [ "${obs:-0}" -gt 0 ]
restart_omrelay 1 --RelayBandwidthRate "200 KB" --RelayBandwidthBurst "200 KB"
# Tor client B saw its connection attempts to omrelay1 fail while it restarted, so it treats
# omrelay1 as down (and, MiddleNodes being strict, has no middle) until a consensus says Running
# again: wait until a small page goes through before timing.
for _ in $(seq 1 30); do
    curl -s --max-time 20 --socks5-hostname "127.0.0.1:$SOCKS_clientB" \
        "http://www.onionmesh.test:$HTTP_PORT/index.html" -o "$WORK/b_warm.out" &&
        cmp -s "$WORK/b_warm.out" "$WORK/www/index.html" && break
    sleep 2
done
w0=$(om_written 1)
t0=$(date +%s.%N)
fetch "$SOCKS_clientB" mid.bin "$WORK/a_limited.out" || echo "# the limited download failed"
t1=$(date +%s.%N)
secs=$(python3 -c "print(round($t1-$t0,1))")
carried=$(($(om_written 1) - w0))
# The bytes went through omrelay1 (it wrote at least the file's size to its sockets), arrived
# intact, and took at least 5 s.
limited_ok() {
    same_file "$WORK/a_limited.out" "$WORK/www/mid.bin" &&
        [ "$carried" -ge "$(stat -c %s "$WORK/www/mid.bin")" ] &&
        python3 -c "import sys;sys.exit(0 if $secs >= 5 else 1)"
}
check "relay_bandwidth_rate_limits (2 MB in ${secs} s at 200 KB/s, omrelay1 wrote $carried bytes)" limited_ok

# Our OP rebuilt circuits at once after each failure: when a relay refused its CREATEs
# (RESOURCELIMIT: more than 200 per link per second) it got thousands of new ones a second.
# Now failures back off (100 ms doubling): at most a few a second, whatever happened above.
op_backs_off() {
    local worst; worst=$(grep "Circuit through .* failed:" "$OP_DIR/info.log" | awk '{print $3}' |
        cut -d. -f1 | sort | uniq -c | sort -rn | awk 'NR==1{print $1}')
    echo "# OP: at most ${worst:-0} failed circuit builds in one second"
    [ "${worst:-0}" -le 20 ]
}
check "op_backs_off_after_failed_builds" op_backs_off

# 7b. both roles in one process: omrelay0 restarted with a SocksPort runs an onion proxy on the
#     relay's own link manager (one link per peer, authenticated as the relay, as tor does): a
#     page through it is byte-exact, and the new process opened no unauthenticated (client) link.
BOTH_SOCKS=$(free_port)
log_lines=$(wc -l <"$NET/omrelay0/info.log")
restart_omrelay 0 --SocksPort "127.0.0.1:$BOTH_SOCKS"
both_roles_ok() {
    wait_bootstrapped "$NET/omrelay0/info.log" 240 || return 1
    curl -sS --max-time 120 --socks5-hostname "127.0.0.1:$BOTH_SOCKS" \
        "http://127.0.0.1:$HTTP_PORT/index.html" -o "$WORK/both_page.out" || return 1
    cmp -s "$WORK/both_page.out" "$WORK/www/index.html" || return 1
    tail -n +"$((log_lines + 1))" "$NET/omrelay0/info.log" >"$WORK/both.log"
    echo "# omrelay0 with SocksPort: $(grep -c 'Link to .* open (link protocol [0-9], authenticated relay link)' "$WORK/both.log") authenticated links opened, $(grep -c 'Link to .* open (link protocol [0-9])$' "$WORK/both.log") client links"
    grep -q "Circuit [0-9]* built" "$WORK/both.log" &&
        ! grep -q 'Link to .* open (link protocol [0-9])$' "$WORK/both.log"
}
check "relay_and_op_in_one_process_share_links_byte_exact" both_roles_ok

# 8. no sanitizer report from any onionmesh process. Only meaningful with an ASan+UBSan build:
# on a plain binary the grep finds nothing whatever happened, so that is a SKIP, and "not ok"
# when OM_REQUIRE_SANITIZERS=1 (tools/run-tests sets it when it passes its ASan build).
sanitizers_quiet() {
    ! grep -l "ERROR: AddressSanitizer\|runtime error:" "$NET"/omrelay*/stdout.log "$WORK"/op/stdout.log 2>/dev/null
}
if { nm -D "$OM"; nm "$OM"; } 2>/dev/null | grep -q "__asan_init\|__ubsan_handle"; then
    check "no_sanitizer_reports" sanitizers_quiet
elif [ "${OM_REQUIRE_SANITIZERS:-}" = 1 ]; then
    notok "no_sanitizer_reports" "$OM is not an ASan/UBSan build"
else
    echo "ok - relay/no_sanitizer_reports # SKIP $OM is not a sanitizer build"
fi

echo "# omrelay0: $(grep -c 'Directory cache' "$NET/omrelay0/info.log") directory cache lines, $(grep -c 'refused' "$NET/omrelay0/info.log") refusals logged"
exit "$FAILED"
