#!/usr/bin/env bash
# exit-policy-test.sh — onionmesh's exit policies (src/or/exit_policy.c) equal Debian tor's for
# the same options: for each case a throwaway tor relay on 127.0.0.1 (PublishServerDescriptor 0,
# AssumeReachable 1, a loopback DirAuthority that is never contacted, so never the public
# network) is asked over its ControlPort for GETINFO exit-policy/full (every rule, IPv4 and
# IPv6) and exit-policy/ipv4 (the lines its descriptor carries), and build/tools/
# onionmesh-exitpolicy must print the same. Malformed policies: tor --verify-config and
# onionmesh-exitpolicy must both refuse them. Prints "ok - ..." / "not ok - ..." lines.
# Usage: exit-policy-test.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EP="$(pwd)/$BUILD/tools/onionmesh-exitpolicy"
WORK=$(mktemp -d /tmp/om-exit-policy-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
ok() { echo "ok - exit_policy_interop/$1"; }
notok() { echo "not ok - exit_policy_interop/$1${2:+: $2}"; }
AUTH="DirAuthority a orport=1 no-v2 v3ident=9DAA31440053305D58C8405E1FEF812B0AB6BA68 127.0.0.1:2 C9C39272BD453D7300435E74401228E9DF382E57"
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# getinfo PORT KEY: the value of a multi-line GETINFO answer, or nothing.
getinfo() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"AUTHENTICATE\r\nGETINFO %s\r\nQUIT\r\n" % sys.argv[2].encode())
    d = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        d += c
except OSError:
    sys.exit(0)
lines = d.decode(errors="replace").split("\r\n")
out, on = [], False
for l in lines:
    if l.startswith("250+" + sys.argv[2] + "="):
        on = True
        continue
    if l.startswith("250-" + sys.argv[2] + "="):
        out.append(l.split("=", 1)[1]); break
    if on:
        if l == ".":
            break
        out.append(l)
print("\n".join(out))
PY
}

# case NAME [OPTION VALUE]... — tor's policies against ours.
run_case() {
    local name=$1
    shift
    local dir="$WORK/$name" orport cport
    mkdir -p "$dir/data"
    orport=$(freeport)
    cport=$(freeport)
    # "Address A" (the relay's published address): tor listens on 127.0.0.1 only and publishes A.
    local a=("$@") i own=""
    for ((i = 0; i < ${#a[@]}; i += 2)); do [ "${a[i]}" = Address ] && own=1; done
    {
        printf 'DataDirectory %s\nControlPort 127.0.0.1:%s\n' "$dir/data" "$cport"
        printf 'ORPort 127.0.0.1:%s%s\n' "$orport" "${own:+ NoAdvertise}"
        printf 'PublishServerDescriptor 0\nAssumeReachable 1\nSocksPort 0\nLog notice file %s\n%s\n' "$dir/tor.log" "$AUTH"
        for ((i = 0; i < ${#a[@]}; i += 2)); do
            printf '%s %s\n' "${a[i]}" "${a[i + 1]}"
            if [ "${a[i]}" = Address ]; then
                case ${a[i + 1]} in
                *:*) printf 'ORPort [%s]:%s NoListen\n' "${a[i + 1]}" "$orport" ;;
                *) printf 'ORPort %s:%s NoListen\n' "${a[i + 1]}" "$orport" ;;
                esac
            fi
        done
    } >"$dir/torrc"
    tor -f "$dir/torrc" >/dev/null 2>&1 &
    local pid=$!
    local full="" v4=""
    for _ in $(seq 1 60); do
        full=$(getinfo "$cport" exit-policy/full)
        [ -n "$full" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    v4=$(getinfo "$cport" exit-policy/ipv4)
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -z "$full" ]; then
        echo "not ok - exit_policy_interop/$name: tor gave no exit-policy/full ($(tail -2 "$dir/tor.log" | tr '\n' ' '))"
        return
    fi
    local ours
    ours=$("$EP" "$@" 2>/dev/null)
    local our_full our_desc
    our_full=$(sed '/^--$/,$d' <<<"$ours")
    our_desc=$(sed '1,/^--$/d' <<<"$ours" | grep -v '^ipv6-policy ')
    if [ "$full" = "$our_full" ] && [ "$v4" = "$our_desc" ]; then
        echo "ok - exit_policy_interop/$name ($(wc -l <<<"$full") rules, descriptor $(wc -l <<<"$v4") lines)"
    else
        echo "not ok - exit_policy_interop/$name: differs"
        diff <(printf '%s\n--\n%s\n' "$full" "$v4") <(printf '%s\n--\n%s\n' "$our_full" "$our_desc") | sed 's/^/#   /'
    fi
}

echo "# $(tor --version | head -1)"
if [ ! -x "$EP" ]; then notok "tool_built" "$EP missing"; exit 0; fi

CASES=(
    "default_exit|ExitRelay|1"
    "auto_not_exit|ExitRelay|auto"
    "exit_relay_0|ExitRelay|0|ExitPolicy|accept *:*"
    "web_only|ExitPolicy|accept *:80,accept *:443,reject *:*"
    "ipv6_exit|ExitPolicy|accept 1.2.3.0/24:80-90, accept6 [2001:db8::]/32:443, reject *:25, accept *:*|IPv6Exit|1"
    "ipv6_exit_only|IPv6Exit|1"
    "no_reject_private|ExitPolicyRejectPrivate|0|ExitPolicy|accept 10.0.0.0/255.0.0.0:*, reject *:6660-6669"
    "two_lines|ExitPolicy|reject 192.0.2.0/24:*|ExitPolicy|accept *:22,accept6 [2001:db8::1]:80"
    "reduced|ReducedExitPolicy|1"
    "reject_all_first|ExitPolicy|reject *:*, accept *:80"
    "accept6_ipv4_ignored|ExitPolicy|accept6 1.2.3.4:80, accept *:8080, reject *:*|IPv6Exit|1"
    "overlaps|ExitPolicy|reject 1.2.3.4:80, accept 1.2.3.0/24:*, reject 1.2.0.0/16:80, accept *:80, reject *:*"
    "v4_mapped|ExitPolicy|accept [::ffff:1.2.3.4]/24:*, reject6 [2001:db8::]/48:22|IPv6Exit|1"
    "private_accept|ExitPolicyRejectPrivate|0|ExitPolicy|accept private:80-443, reject *4:*, accept6 *6:443|IPv6Exit|1"
    "own_address|ExitRelay|1|Address|203.0.113.5"
    "own_address_v6|ExitRelay|1|IPv6Exit|1|Address|203.0.113.5|Address|2001:db8::5"
    "own_address_no_reject_private|ExitRelay|1|ExitPolicyRejectPrivate|0|Address|203.0.113.5"
    "ports_masks|ExitPolicy|accept 198.51.100.7/255.255.255.128:1-1024, reject 198.51.100.0/25:*, accept *:+8080, accept 192.0.2.1/08:443"
)
for c in "${CASES[@]}"; do
    IFS='|' read -r -a f <<<"$c"
    run_case "${f[@]}" >"$WORK/${f[0]}.out" 2>&1 &
    PIDS+=($!)
    # Four tor processes at a time.
    if [ ${#PIDS[@]} -ge 4 ]; then wait "${PIDS[0]}"; PIDS=("${PIDS[@]:1}"); fi
done
wait
PIDS=()
for c in "${CASES[@]}"; do cat "$WORK/${c%%|*}.out"; done

# Malformed policies: tor refuses the configuration, and so do we (with a reason).
BAD=("accept *:0" "accept *:0-80" "accept *:65536" "accept *:80-70" "accept 1.2.3.4/33:*"
    "accept 1.2.3.4/255.0.255.0:*" "accept *4/8:*" "accept [::1]/129:*" "accept [::1:*"
    "ACCEPT *:80" "accept 1.2.3:80" "accept *:80 extra" "accept private" "accept" "allow *:80"
    "accept 01.2.3.4:80" "accept ::1:80")
n=0
printf 'DataDirectory %s\nORPort 127.0.0.1:9\nSocksPort 0\n%s\nExitRelay 1\n' "$WORK/vdata" "$AUTH" >"$WORK/base.torrc"
for b in "${BAD[@]}"; do
    n=$((n + 1))
    printf '%%include %s\nExitPolicy %s\n' "$WORK/base.torrc" "$b" >"$WORK/bad$n.torrc"
    tor_rc=0
    tor -f "$WORK/bad$n.torrc" --verify-config >/dev/null 2>&1 || tor_rc=$?
    our_err=$("$EP" ExitRelay 1 ExitPolicy "$b" 2>&1 >/dev/null)
    our_rc=$?
    if [ "$tor_rc" -ne 0 ] && [ "$our_rc" -eq 1 ] && [ -n "$our_err" ]; then
        ok "malformed_refused_by_both ($b: $our_err)"
    else
        notok "malformed_refused_by_both ($b)" "tor exit $tor_rc, onionmesh exit $our_rc"
    fi
done
