# Timing rounds shared by the map benchmarks (sourced, not run): every tool runs once
# untimed (page cache, binary loading), then REPEAT times, alternating between tools so
# that the machine's noise falls on all of them alike; medians are what the reports
# compare.
#
# Needs: `tools` (an array of names), a function `run_<name>` per tool taking the items
# file, REPEAT and N. Fills the associative arrays `times` (every run, in seconds) and
# `med` (the median), and the load averages `load_before` and `load_after`.

# True when GNU parallel (not moreutils' parallel) is on PATH.
have_gnu_parallel() {
    command -v parallel >/dev/null && parallel --version 2>/dev/null | grep -q "GNU parallel"
}

# Seconds of wall time of one command (stdout and stderr discarded).
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
per_item() { printf '%.3f' "$(echo "$1 * 1000 / $N" | bc -l)"; }

# Times every tool on the items file $1 after a warm-up on the items file $2.
time_rounds() {
    local items=$1 warm=$2 tool round t
    declare -gA times med
    for tool in "${tools[@]}"; do times[$tool]=""; done
    for tool in "${tools[@]}"; do "run_$tool" "$warm" >/dev/null 2>&1 || true; done
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    for round in $(seq "$REPEAT"); do
        for tool in "${tools[@]}"; do
            t=$(printf '%.2f' "$(seconds "run_$tool" "$items")")
            times[$tool]+="$t "
            printf '%-9s round %d: %s s\n' "$tool" "$round" "$t" >&2
        done
    done
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    for tool in "${tools[@]}"; do med[$tool]=$(echo "${times[$tool]}" | median); done
}
