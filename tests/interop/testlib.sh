# testlib.sh — shell helpers shared by the interop scripts that run a private network
# (network-test.sh, relay-network-test.sh): a free loopback port, waiting for a tor or onionmesh
# log to say it bootstrapped, and the HTTP server whose files the clients download through the
# network. Source it; it defines functions only.

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_bootstrapped LOG [TRIES=120] [PID]: 0 once LOG says "Bootstrapped 100%" (polled every
# 0.5 s, TRIES times); 1 if it never does, or as soon as PID (if given) has exited.
wait_bootstrapped() {
    for _ in $(seq 1 "${2:-120}"); do
        grep -q "Bootstrapped 100%" "$1" 2>/dev/null && return 0
        [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
        sleep 0.5
    done
    return 1
}

# serve_www DIR TITLE BIG_MB MID_MB: writes DIR/index.html, DIR/big.bin (BIG_MB MiB) and
# DIR/mid.bin (MID_MB MiB) of random bytes, serves DIR on 127.0.0.1; sets HTTP_PORT, HTTP_PID.
serve_www() {
    mkdir -p "$1"
    echo "<html><body>$2</body></html>" >"$1/index.html"
    head -c $(($3 * 1024 * 1024)) /dev/urandom >"$1/big.bin"
    head -c $(($4 * 1024 * 1024)) /dev/urandom >"$1/mid.bin"
    HTTP_PORT=$(free_port)
    (cd "$1" && exec python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
    HTTP_PID=$!
    for _ in $(seq 1 100); do
        curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/index.html" -o /dev/null && return 0
        sleep 0.2
    done
    return 1
}
