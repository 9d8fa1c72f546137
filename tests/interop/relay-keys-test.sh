#!/usr/bin/env bash
# relay-keys-test.sh — Debian's tor reads the relay keys onionmesh writes (src/or/relay_keys.c):
# onionmesh creates DataDirectory/keys and prints its fingerprint; tor --list-fingerprint on the
# same DataDirectory must report the same RSA and Ed25519 identities and keep every key file
# (it would make new keys if it could not parse ours). Prints "ok - ..." / "not ok - ..." lines.
# Usage: relay-keys-test.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OM="$(pwd)/$BUILD/onionmesh"
WORK=$(mktemp -d /tmp/om-relay-keys-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ok() { echo "ok - relay_keys_interop/$1"; }
notok() { echo "not ok - relay_keys_interop/$1${2:+: $2}"; }

echo "# $(tor --version | head -1)"
DD="$WORK/data"
# A loopback DirAuthority: --list-fingerprint contacts nobody, but never name the public network.
AUTH="DirAuthority a orport=1 no-v2 v3ident=9DAA31440053305D58C8405E1FEF812B0AB6BA68 127.0.0.1:2 C9C39272BD453D7300435E74401228E9DF382E57"
om_line=$("$OM" --ORPort 127.0.0.1:9 --DataDirectory "$DD" --Nickname omkeys --DirAuthority "${AUTH#DirAuthority }" --list-fingerprint 2>/dev/null)
om_ed=$(cut -d' ' -f2 "$DD/fingerprint-ed25519" 2>/dev/null)
if [ -n "$om_line" ] && [ -n "$om_ed" ]; then ok "onionmesh_creates_keys ($om_line)"; else notok "onionmesh_creates_keys"; exit 0; fi
perms=$(stat -c '%a' "$DD/keys" "$DD"/keys/* | sort -u | tr '\n' ' ')
[ "$perms" = "600 700 " ] && ok "modes_0700_0600" || notok "modes_0700_0600" "$perms"
(cd "$DD/keys" && sha256sum ./* >"$WORK/before.sha")

printf 'DataDirectory %s\nORPort 127.0.0.1:9\nNickname omkeys\nLog notice stdout\n%s\n' "$DD" "$AUTH" >"$WORK/torrc"
tor_out=$(tor -f "$WORK/torrc" --list-fingerprint 2>&1)
tor_line=$(echo "$tor_out" | grep -v '^[A-Z][a-z][a-z] [0-9]' | tail -1)
tor_ed=$(echo "$tor_out" | sed -n "s/.*ed25519 fingerprint is 'omkeys \(.*\)'.*/\1/p")
[ "$tor_line" = "$om_line" ] && ok "tor_same_rsa_fingerprint" ||
    notok "tor_same_rsa_fingerprint" "onionmesh '$om_line', tor '$tor_line'"
[ -n "$tor_ed" ] && [ "$tor_ed" = "$om_ed" ] && ok "tor_same_ed25519_identity ($tor_ed)" ||
    notok "tor_same_ed25519_identity" "onionmesh '$om_ed', tor '$tor_ed'"
# tor rewrites nothing it could read: every key file of ours is still the same.
changed=$(cd "$DD/keys" && sha256sum -c "$WORK/before.sha" 2>/dev/null | grep -v ': OK$' | tr '\n' ' ')
[ -z "$changed" ] && ok "tor_kept_every_key_file" || notok "tor_kept_every_key_file" "$changed"
if echo "$tor_out" | grep -qi "need to generate\|generating\|making a new"; then
    notok "tor_generated_nothing" "$(echo "$tor_out" | grep -i 'generat\|new' | head -2)"
else
    ok "tor_generated_nothing"
fi
# And onionmesh reads the directory back after tor used it: the same identity.
again=$("$OM" --ORPort 127.0.0.1:9 --DataDirectory "$DD" --Nickname omkeys --DirAuthority "${AUTH#DirAuthority }" --list-fingerprint 2>/dev/null)
[ "$again" = "$om_line" ] && ok "onionmesh_reloads_same_identity" || notok "onionmesh_reloads_same_identity" "$again"
