# testlib.sh — shell helpers shared by the interop scripts that run a private network
# (network-test.sh, relay-network-test.sh): a free loopback port, and the HTTP server whose files
# the clients download through the network. Source it; it defines functions only.

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

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
