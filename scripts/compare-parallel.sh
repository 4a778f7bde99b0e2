#!/usr/bin/env bash
# Runs the same cases under GNU parallel and `taskloom map` and prints, for each, that
# they agree or that they differ in the way docs/map-vs-parallel.md lists and explains.
# Any other outcome is an unexplained difference: it is shown in full and the script
# exits 1. Exit 3: GNU parallel is not installed (scripts/test.sh installs it).
#
#   scripts/compare-parallel.sh [TASKLOOM]     (default: target/debug/taskloom)
#
# - A case runs each command with `bash -c` in a fresh directory of its own, after the
#   same setup, and compares stdout and the exit status (stderr is each tool's own
#   wording and is not compared).
# - `agree` cases must give the same stdout (after an optional filter, e.g. `sort`
#   where the order is not promised) and status; `differs` cases must give exactly
#   the documented result under each tool, so a change on either side shows up.
# - Commands name the tools as $P (GNU parallel) and $T (`taskloom map`).
set -uo pipefail
cd "$(dirname "$0")/.."

taskloom=$(realpath "${1:-target/debug/taskloom}")
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
    # (moreutils has a `parallel` too, which is not this one.)
    echo "compare-parallel.sh: GNU parallel is not installed (apt-get install parallel)" >&2
    exit 3
fi
if [ ! -x "$taskloom" ]; then
    echo "compare-parallel.sh: no taskloom at $taskloom (cargo build first)" >&2
    exit 2
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch/home" # parallel keeps its state in ~/.parallel
mkdir -p "$HOME"
export P="parallel --will-cite" T="$taskloom map --no-progress"
DOC=docs/map-vs-parallel.md
cases=0 unexplained=0

# Runs `$1` after `$2` in a fresh directory; sets $out and $rc.
run() {
    local dir
    dir=$(mktemp -d "$scratch/case.XXXX")
    out=$(cd "$dir" && bash -c "$2" >/dev/null 2>&1 && bash -c "$1" 2>/dev/null)
    rc=$?
}

# Prints what a tool did, for an unexplained difference.
show() {
    printf '    %s: exit %s, stdout:\n' "$1" "$2"
    printf '%s\n' "$3" | sed 's/^/      | /'
}

# agree NAME SETUP PARALLEL TASKLOOM [FILTER]
agree() {
    local name=$1 setup=$2 filter=${5:-cat} p_out p_rc
    cases=$((cases + 1))
    run "$3" "$setup"
    p_out=$(printf '%s' "$out" | $filter) p_rc=$rc
    run "$4" "$setup"
    out=$(printf '%s' "$out" | $filter)
    if [ "$p_out" == "$out" ] && [ "$p_rc" == "$rc" ]; then
        printf 'agree     %s\n' "$name"
    else
        unexplained=$((unexplained + 1))
        printf 'UNEXPLAINED %s\n    parallel: %s\n    taskloom: %s\n' "$name" "$3" "$4"
        show parallel "$p_rc" "$p_out"
        show taskloom "$rc" "$out"
    fi
}

# differs NAME ANCHOR SETUP PARALLEL P_STATUS P_STDOUT TASKLOOM T_STATUS T_STDOUT
differs() {
    local name=$1 anchor=$2 setup=$3 p_out p_rc
    cases=$((cases + 1))
    run "$4" "$setup"
    p_out=$out p_rc=$rc
    run "$7" "$setup"
    if [ "$p_rc" == "$5" ] && [ "$p_out" == "$6" ] && [ "$rc" == "$8" ] && [ "$out" == "$9" ]; then
        printf 'differs   %s (allowed: %s#%s)\n' "$name" "$DOC" "$anchor"
    else
        unexplained=$((unexplained + 1))
        printf 'UNEXPLAINED %s (documented in %s#%s)\n' "$name" "$DOC" "$anchor"
        printf '    expected parallel: exit %s, %q\n    expected taskloom: exit %s, %q\n' "$5" "$6" "$8" "$9"
        show parallel "$p_rc" "$p_out"
        show taskloom "$rc" "$out"
    fi
}

nl=$'\n'
jobs='printf "#!/bin/sh\necho job1\n" > job1.sh; printf "#!/bin/sh\nsleep 0.3; echo job3\n" > job3.sh; chmod +x job1.sh job3.sh'
latin1='printf 1 > "$(printf "caf\351.txt")"; printf 2 > "a b.txt"; printf "caf\351.txt\na b.txt\n" > items'

# Inputs.
agree "::: words, appended as the last argument" '' \
    '$P -k echo ::: a "b c" d' '$T echo ::: a "b c" d'
agree ":::: FILE is --input FILE" 'printf "one\ntwo words\nthree\n" > items' \
    '$P -k echo {} :::: items' '$T --input items -- echo {}'
agree "stdin is --input -" '' \
    'printf "a\nb\n" | $P -k echo' 'printf "a\nb\n" | $T --input - -- echo'
agree "two ::: sources are two --grid" '' \
    '$P -k echo {1}-{2} ::: a b ::: 1 2' '$T --grid x=a,b --grid y=1,2 -- echo {x}-{y}'
agree "{#} is the sequence number" '' \
    '$P -k echo {#}:{} ::: a b c' '$T echo {#}:{} ::: a b c'
agree "Latin-1 file names from a glob" "$latin1" \
    '$P -k cat ::: caf* a*' '$T cat ::: caf* a*'
agree "a line that is not UTF-8 in :::: FILE" "$latin1" \
    '$P -k "cat {}; echo" :::: items' '$T --shell --input items -- "cat {}; echo"'

# Order.
agree "-k keeps input order; taskloom's default" '' \
    '$P -k -j3 "sleep 0.{}; echo {}" ::: 6 2 4' '$T -j3 --shell -- "sleep 0.{}; echo {}" ::: 6 2 4'
agree "without -k is --unordered (same lines)" '' \
    '$P -j3 "sleep 0.{}; echo {}" ::: 6 2 4' '$T --unordered -j3 --shell -- "sleep 0.{}; echo {}" ::: 6 2 4' sort

# Quoting: every substituted item is one literal word.
agree "an injected command stays text (--shell)" '' \
    '$P echo {} ::: "c;echo INJECTED"' '$T --shell -- echo {} ::: "c;echo INJECTED"'
agree "an injected command stays text (no shell)" '' \
    '$P echo {} ::: "c;echo INJECTED"' '$T echo {} ::: "c;echo INJECTED"'
agree "quotes, \$( ) and globs in items" 'touch x1 x2' \
    "\$P -k echo {} ::: \"it's\" '\$(echo no)' 'x*' 'a  b'" \
    "\$T --shell -- echo {} ::: \"it's\" '\$(echo no)' 'x*' 'a  b'"
agree "convert {} {#}.png on a name with a space" 'printf svg > "a b.svg"' \
    '$P "cp {} {#}.png && cat 1.png" ::: "a b.svg"' '$T --shell -- "cp {} {#}.png && cat 1.png" ::: "a b.svg"'
agree "\$ before {} under a shell" '' \
    '$P echo "US\$"{} ::: 5' '$T --shell -- echo "US\$"{} ::: 5'
agree "shell code in an item: {= uq() =} is {!}" '' \
    '$P -k "{= uq() =}" ::: "echo a | tr a A"' '$T --shell -- "{!}" ::: "echo a | tr a A"'

# Failures and exit status.
agree "one failing item: exit 1, the others run" '' \
    '$P -k "echo {}; exit {}" ::: 0 1 0' '$T --shell -- "echo {}; exit {}" ::: 0 1 0'
agree "a missing program fails its item alone" "$jobs" \
    '$P -k -j2 ./job{}.sh ::: 1 2 3' '$T -j2 ./job{}.sh ::: 1 2 3'
agree "a script without #! runs under sh" 'printf "echo plain \$1\n" > plain.sh; chmod +x plain.sh' \
    '$P -k ./plain.sh ::: a b' '$T ./plain.sh ::: a b'
agree "--halt now,fail=1 is --halt now" '' \
    '$P -j1 --halt now,fail=1 "echo {}; exit {}" ::: 0 1 0' '$T -j1 --halt now --shell -- "echo {}; exit {}" ::: 0 1 0'
agree "--halt soon,fail=1 is --halt soon" '' \
    '$P -j1 --halt soon,fail=1 "echo {}; exit {}" ::: 0 1 0' '$T -j1 --halt soon --shell -- "echo {}; exit {}" ::: 0 1 0'
agree "--timeout fails the item" '' \
    '$P -k --timeout 1 "sleep {}; echo {}" ::: 0.1 5 0.2' '$T --timeout 1s --shell -- "sleep {}; echo {}" ::: 0.1 5 0.2'
agree "--retries N+1 is --retries N" '' \
    '$P --retries 3 "echo x >> n; exit 1" ::: a; echo $?; wc -l < n' \
    '$T --retries 2 --shell -- "echo x >> n; exit 1" ::: a; echo $?; wc -l < n'
agree "--resume-failed with --joblog is --resume with --results" 'touch a c' \
    '$P --joblog j "test -e {} && echo {}" ::: a b c >/dev/null; touch b; $P -k --joblog j --resume-failed "test -e {} && echo {}" ::: a b c' \
    '$T --results r --shell -- "test -e {} && echo {}" ::: a b c >/dev/null; touch b; $T --results r --resume --shell -- "test -e {} && echo {}" ::: a b c'

# Differences the contract allows (each explained in docs/map-vs-parallel.md).
differs "finish order is the default of parallel, input order of taskloom" default-order '' \
    '$P -j3 "sleep 0.{}; echo {}" ::: 9 3 6' 0 "3${nl}6${nl}9" \
    '$T -j3 --shell -- "sleep 0.{}; echo {}" ::: 9 3 6' 0 "9${nl}3${nl}6"
differs "exit status counts failures in parallel" exit-status '' \
    '$P "exit {}" ::: 1 2 3' 3 "" \
    '$T --shell -- "exit {}" ::: 1 2 3' 1 ""
differs "--halt exits with the failing item's status in parallel" exit-status '' \
    '$P -j1 --halt soon,fail=1 "exit {}" ::: 0 3 0' 3 "" \
    '$T -j1 --halt soon --shell -- "exit {}" ::: 0 3 0' 1 ""
differs "a program no item can run is a usage error" missing-program '' \
    '$P no-such-program-xyz ::: a b c' 3 "" \
    '$T no-such-program-xyz ::: a b c' 2 ""
differs "no shell unless --shell" shell-by-default '' \
    '$P echo "US\$"{} "a;b" ::: 5' 1 "US a" \
    '$T echo "US\$"{} "a;b" ::: 5' 0 "US\$5 a;b"
differs "{.} {/} {//} {/.} {%} are not placeholders" replacement-strings '' \
    '$P echo {.} {/} {//} {/.} {%} ::: d/a.b.c' 0 "d/a.b a.b.c d a.b 1" \
    '$T echo {.} {/} {//} {/.} {%} ::: d/a.b.c' 0 "{.} {/} {//} {/.} {%} d/a.b.c"
differs "one ::: source; combinations are --grid" several-sources '' \
    '$P -k echo ::: a b ::: 1' 0 "a 1${nl}b 1" \
    '$T echo ::: a b ::: 1' 2 ""
differs "no items is a usage error" no-items '' \
    '$P echo :::' 0 "" \
    '$T echo :::' 2 ""
differs "resume matches items, not sequence numbers" resume-by-item 'touch a' \
    '$P --joblog j "test -e {} && echo {}" ::: a b >/dev/null; touch b z; $P -k --joblog j --resume-failed "test -e {} && echo {}" ::: z a b' 0 "a${nl}b" \
    '$T --results r --shell -- "test -e {} && echo {}" ::: a b >/dev/null; touch b z; $T --results r --resume --shell -- "test -e {} && echo {}" ::: z a b' 0 "z${nl}b"

echo "compare-parallel.sh: $cases cases, $unexplained unexplained difference(s)"
[ "$unexplained" -eq 0 ]
