#!/bin/sh
# careerbot's container entrypoint, run by tini (PID 1, which forwards SIGTERM/SIGINT and reaps).
# `exec` hands this process over to careerbot, so the signal reaches the bot itself and it drains.
#
# In a Kubernetes StatefulSet (CAREERBOT_SHARD_FROM_HOSTNAME=1), pod NAME-N runs Discord shard N
# of DISCORD_SHARD_COUNT, unless DISCORD_SHARD_IDS is given explicitly.
set -eu

if [ "${CAREERBOT_SHARD_FROM_HOSTNAME:-}" = "1" ] && [ -z "${DISCORD_SHARD_IDS:-}" ]; then
    host="${HOSTNAME:-$(hostname)}"
    ordinal="${host##*-}"
    case "$ordinal" in
        '' | *[!0-9]*)
            echo "careerbot: cannot read a shard number from the host name '$host' (expected NAME-N)" >&2
            exit 2
            ;;
    esac
    if [ -z "${DISCORD_SHARD_COUNT:-}" ]; then
        echo "careerbot: CAREERBOT_SHARD_FROM_HOSTNAME=1 needs DISCORD_SHARD_COUNT" >&2
        exit 2
    fi
    DISCORD_SHARD_IDS="$ordinal"
    export DISCORD_SHARD_IDS
fi

exec careerbot "$@"
