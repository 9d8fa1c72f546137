# browser_lib.sh — shell helpers shared by the browser-client interop scripts
# (browser-link-test.sh, browser-fetch-test.sh): the prerequisites (chromium, npm ci's
# node_modules, the onionmesh binary) and an onionmesh BridgeRelay with a WebSocketPort on a
# tools/testnet network. Source it after testlib.sh, with ok/notok defined; functions only.

# browser_prereqs OM: chromium, node_modules and OM present (else "not ok" and return 1).
browser_prereqs() {
    [ -x "${OM_CHROMIUM:-/usr/bin/chromium}" ] ||
        { notok chromium_installed "no /usr/bin/chromium"; return 1; }
    [ -f node_modules/playwright-core/package.json ] && [ -d node_modules/@noble/curves ] ||
        { notok node_modules_installed "run npm ci"; return 1; }
    [ -x "$1" ] || { notok onionmesh_built "$1"; return 1; }
    echo "# $(tor --version | head -1); $(${OM_CHROMIUM:-/usr/bin/chromium} --version 2>/dev/null)"
}

# start_ws_bridge OM DIR NET NICKNAME: starts the bridge (WS_BRIDGE_EXTRA: more torrc lines) with
# its DataDirectory DIR and waits
# until it has a consensus and wrote DIR/bridge-line; sets OMPID and adds it to PIDS (the
# caller's cleanup list). Returns 1 if it never does.
start_ws_bridge() {
    local om=$1 dir=$2 net=$3
    mkdir -m 700 "$dir"
    {
        echo "DataDirectory $dir"
        echo "TestingTorNetwork 1"
        echo "Nickname $4"
        echo "Address 127.0.0.1"
        echo "ORPort 127.0.0.1:$(free_port)"
        echo "BridgeRelay 1"
        echo "WebSocketPort 127.0.0.1:$(free_port)"
        echo "WebSocketPath /tor"
        echo "AssumeReachable 1"
        echo "Log info file $dir/info.log"
        echo "SafeLogging 0"
        [ -n "${WS_BRIDGE_EXTRA:-}" ] && printf '%s\n' "$WS_BRIDGE_EXTRA"
        cat "$net/dirauth-lines"
    } >"$dir/torrc"
    "$om" -f "$dir/torrc" >"$dir/stdout.log" 2>&1 &
    OMPID=$!
    PIDS="${PIDS:-} $OMPID"
    for _ in $(seq 1 240); do
        grep -q "Accepted a microdesc consensus" "$dir/info.log" 2>/dev/null &&
            grep -q "^Bridge websocket " "$dir/bridge-line" 2>/dev/null && return 0
        kill -0 "$OMPID" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}
