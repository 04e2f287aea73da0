#!/usr/bin/env bash
# One node of the three-node demo federation of docker/compose.yaml.
#
#   1. generate the demo library variant into $SONANTICA_MUSIC (once: the demo
#      generator leaves a marker and does nothing the next time);
#   2. initialise the node in $SONANTICA_DATA if it is not yet (and create the
#      owner if SONANTICA_OWNER_PASSWORD is set);
#   3. serve (web/API on 4533, peer API on 4534);
#   4. the leader writes a fresh invite to $SONANTICA_SHARE/invite; a follower
#      that is not yet a member waits for node 1 and joins with that invite.
#
# Settings (environment):
#   SONANTICA_ROLE            leader | follower            (default leader)
#   SONANTICA_NAME            the node's name              (default "Sonántica <hostname>")
#   SONANTICA_DATA            data folder                  (default /data)
#   SONANTICA_MUSIC           music folder                 (default /music)
#   SONANTICA_DEMO_VARIANT    demo library variant 0, 1, 2 (unset: no demo library)
#   SONANTICA_SHARE           folder shared by the nodes for the invite (default /share)
#   SONANTICA_LEADER_URL      node 1's web address         (default http://node1:4533)
#   SONANTICA_OWNER_PASSWORD  if set, creates the user "owner" with it on first start
set -euo pipefail

ROLE="${SONANTICA_ROLE:-leader}"
DATA="${SONANTICA_DATA:-/data}"
MUSIC="${SONANTICA_MUSIC:-/music}"
SHARE="${SONANTICA_SHARE:-/share}"
LEADER_URL="${SONANTICA_LEADER_URL:-http://node1:4533}"
NAME="${SONANTICA_NAME:-Sonántica $(hostname)}"
BIND="${SONANTICA_BIND:-0.0.0.0:4533}"
PEER_BIND="${SONANTICA_PEER_BIND:-0.0.0.0:4534}"
JOIN_TIMEOUT_S="${SONANTICA_JOIN_TIMEOUT_S:-300}"

say() { echo "entrypoint[$ROLE]: $*" >&2; }
sonantica() { command sonantica --data "$DATA" "$@"; }

# Succeeds once GET $1/api/v1/health answers 200.
healthy() {
    python - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/api/v1/health", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

# Succeeds when this node belongs to a federation with at least one other member.
is_member() {
    sonantica peers --json 2>/dev/null | python -c 'import json, sys; sys.exit(0 if len(json.load(sys.stdin)) > 1 else 1)'
}

# 1. demo library
if [[ -n "${SONANTICA_DEMO_VARIANT:-}" ]]; then
    say "demo library variant $SONANTICA_DEMO_VARIANT in $MUSIC"
    command sonantica demo "$MUSIC" --variant "$SONANTICA_DEMO_VARIANT"
fi

# 2. init
if [[ ! -f "$DATA/config.toml" ]]; then
    say "initialising $NAME in $DATA"
    sonantica init --music "$MUSIC" --name "$NAME"
    if [[ -n "${SONANTICA_OWNER_PASSWORD:-}" ]]; then
        printf '%s\n' "$SONANTICA_OWNER_PASSWORD" | sonantica user add owner --password-stdin
    fi
fi

# 3. serve in the background; stop it when the container is stopped
# (`command`, not the function above: a backgrounded function is a subshell, and its pid is
# not the server's, so `docker stop` would end this script before the server had shut down)
command sonantica --data "$DATA" serve --bind "$BIND" --peer-bind "$PEER_BIND" &
SERVE_PID=$!
STOPPING=""
stop() {
    say "stopping"
    STOPPING=yes
    kill -TERM "$SERVE_PID" 2>/dev/null || true
}
trap stop TERM INT

LOCAL_URL="http://127.0.0.1:${BIND##*:}"
for _ in $(seq 1 600); do
    [[ -n "$STOPPING" ]] && break
    healthy "$LOCAL_URL" && break
    kill -0 "$SERVE_PID" 2>/dev/null || { wait "$SERVE_PID" || exit $?; exit 1; }
    sleep 0.5
done

# 4. invite / join
if [[ -n "$STOPPING" ]]; then
    :
elif [[ "$ROLE" == "leader" ]]; then
    mkdir -p "$SHARE"
    # a fresh invite on every start, written atomically (followers may read it at any time)
    if code="$(sonantica invite --uses 2 --ttl 24h | tail -n 1)" && [[ -n "$code" ]]; then
        printf '%s\n' "$code" > "$SHARE/invite.tmp"
        mv -f "$SHARE/invite.tmp" "$SHARE/invite"
        say "invite written to $SHARE/invite"
    else
        say "could not create an invite"
    fi
elif is_member; then
    say "already a member of the federation"
else
    say "waiting for node 1 ($LEADER_URL) and its invite in $SHARE/invite"
    deadline=$((SECONDS + JOIN_TIMEOUT_S))
    joined=no
    while (( SECONDS < deadline )) && [[ -z "$STOPPING" ]]; do
        if healthy "$LEADER_URL" && [[ -s "$SHARE/invite" ]]; then
            code="$(tail -n 1 "$SHARE/invite")"
            if sonantica join "$code"; then
                joined=yes
                break
            fi
            # a used or stale invite: node 1 writes a new one when it restarts
        fi
        sleep 2
    done
    if [[ "$joined" == yes ]]; then
        say "joined the federation"
    else
        say "did not join within ${JOIN_TIMEOUT_S}s; serving alone (run \`sonantica join CODE\` in this container)"
    fi
fi

# wait for serve; `wait` returns early when a trapped signal arrives, so wait again
status=0
wait "$SERVE_PID" || status=$?
if kill -0 "$SERVE_PID" 2>/dev/null; then
    wait "$SERVE_PID" || status=$?
fi
exit "$status"
