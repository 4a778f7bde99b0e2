# Shared by the LSF and PBS stand-ins: a batch "system" that runs each job at once in
# the background on this machine, keeping its state in $STANDIN_STATE (set by the
# tests). Each stand-in checks every argument and directive it gets and fails loudly
# (exit 99, "stand-in: unexpected ...") on anything taskloom should not send.

fail() {
    echo "stand-in $(basename "$0"): unexpected $*" >&2
    exit 99
}

[ -n "${STANDIN_STATE:-}" ] && [ -d "$STANDIN_STATE" ] || fail "environment: STANDIN_STATE is not a directory"

# A new job number.
next_id() {
    local n
    n=$(($(cat "$STANDIN_STATE/last" 2>/dev/null || echo 100) + 1))
    echo "$n" >"$STANDIN_STATE/last"
    echo "$n"
}

# Starts the script $2 as job $1 in a session of its own, output to $3, with the
# environment variable $4 holding the job id; its exit code lands in $1.exit.
start_job() {
    local id=$1 script=$2 output=$3 variable=$4
    setsid env "$variable=$id" bash -c 'bash "$1"; echo $? >"$2.exit.tmp"; mv "$2.exit.tmp" "$2.exit"' \
        job "$script" "$STANDIN_STATE/$id" </dev/null >>"$output" 2>&1 &
    echo $! >"$STANDIN_STATE/$id.pid"
}

# running | killed | exited CODE | unknown
job_state() {
    local id=$1 pid
    [ -f "$STANDIN_STATE/$id.pid" ] || { echo unknown; return; }
    pid=$(cat "$STANDIN_STATE/$id.pid")
    if [ -f "$STANDIN_STATE/$id.killed" ]; then
        echo killed
    elif [ -f "$STANDIN_STATE/$id.exit" ]; then
        echo "exited $(cat "$STANDIN_STATE/$id.exit")"
    elif kill -0 -- "-$pid" 2>/dev/null; then
        echo running
    else
        echo unknown
    fi
}

# Ends job $1: SIGTERM to its whole session, as the real systems do.
kill_job() {
    local pid
    pid=$(cat "$STANDIN_STATE/$1.pid")
    touch "$STANDIN_STATE/$1.killed"
    kill -TERM -- "-$pid" 2>/dev/null || true
}
