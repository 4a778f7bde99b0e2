#!/usr/bin/env bash
# Makes the README's pictures from the bundled examples: the DAG, the speed-up plot and
# a profile screenshot (headless chromium: apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
tl=target/release/taskloom
$tl graph examples/mapreduce.tl --format svg --out docs/dag.svg
$tl scale examples/busy_grid.tl --workers 1,2,4 --plot docs/speedup.svg
$tl run examples/busy_grid.tl --workers 2 --profile target/busy_grid-profile.html >/dev/null
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --window-size=1150,560 \
    --screenshot=docs/profile.png "file://$PWD/target/busy_grid-profile.html" 2>/dev/null
echo "wrote docs/dag.svg docs/speedup.svg docs/profile.png"
