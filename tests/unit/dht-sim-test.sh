#!/usr/bin/env bash
# dht-sim-test.sh — the DHT simulator (tools/dht-sim, the src/dht code over a simulated
# transport) against issue 14's goals at 1,000 nodes: with Kademlia's routing alone (--seeds
# table) 100% of lookups succeed without churn and at least 99% with 20% of the nodes replaced,
# in a median of at most log2(1000)/3 = 3 rounds; with 10% hostile nodes (dropping queries or
# forging records) at least 98%, and forged records never count; seeded from the consensus as
# onionmesh's nodes are, 100% even with hostile nodes. Prints "ok - ..." / "not ok - ..." lines.
# Usage: dht-sim-test.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/../.."
SIM=${1:-build}/tools/onionmesh-dht-sim
bad=0
check() { # name, min success, max median rounds, sim args...
    local name=$1 min=$2 rounds=$3
    shift 3
    local out
    out=$("$SIM" "$@" --seed 7 2>&1)
    local s r
    s=$(sed -n 's/.* success=\([0-9.]*\).*/\1/p' <<<"$out")
    r=$(sed -n 's/.* median_rounds=\([0-9]*\).*/\1/p' <<<"$out")
    if [ -n "$s" ] && awk -v s="$s" -v m="$min" -v r="$r" -v x="$rounds" 'BEGIN{exit !(s >= m && r <= x)}'; then
        echo "ok - dht_sim_$name # $out"
    else
        echo "not ok - dht_sim_$name: want success >= $min, median rounds <= $rounds: $out"
        bad=1
    fi
}
check table_no_churn 1.0 3 --nodes 1000 --churn 0 --lookups 500 --seeds table
check table_churn_20pct 0.99 3 --nodes 1000 --churn 0.2 --lookups 500 --seeds table
check table_churn_hostile_10pct 0.98 3 --nodes 1000 --churn 0.2 --lookups 500 --hostile 10 --seeds table
check consensus_churn_hostile_10pct 1.0 1 --nodes 1000 --churn 0.2 --lookups 500 --hostile 10
"$SIM" --nodes 10 --churn 2 --lookups 1 >/dev/null 2>&1
[ $? -eq 2 ] && echo "ok - dht_sim_refuses_bad_arguments" || { echo "not ok - dht_sim_refuses_bad_arguments"; bad=1; }
exit $bad
