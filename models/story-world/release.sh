#!/usr/bin/env bash
# Makes a pack release from a checkpoint, in one go, so the pack, the parity fixture and the
# model card's figures always come from the same weights:
#   models/story-world/release.sh runs/main/latest.pt runs/judge.pt
# The model card's table is evaluated in two processes (one thread each: two cores), then joined
# into results.json; the contact sheet shows the first stories of the unnamed rows.
set -euo pipefail
cd "$(dirname "$0")"
ckpt=${1:-runs/main/latest.pt}
judge=${2:-runs/judge.pt}
py=/usr/bin/python3
frozen=runs/release.pt
cp "$ckpt" "$frozen"   # training may overwrite latest.pt meanwhile
$py export.py --ckpt "$frozen" --judge "$judge" --out ../packs/story-world
$py reference.py --ckpt "$frozen" --out ../../tests/fixtures/story-world/reference.json
$py evaluate.py --ckpt "$frozen" --judge "$judge" --rows none,identity,read --json runs/results-unnamed.json \
  --sheet contact-sheet.png &
$py evaluate.py --ckpt "$frozen" --judge "$judge" --rows named-none,named-read --json runs/results-named.json &
wait %1 && wait %2
$py - <<'PY'
import json
a, b = (json.load(open(f"runs/results-{n}.json")) for n in ("unnamed", "named"))
a["args"]["rows"] = "none,identity,read,named-none,named-read"
a["results"].update(b["results"])
json.dump(a, open("results.json", "w"), indent=1)
PY
