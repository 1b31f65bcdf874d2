#!/usr/bin/env bash
# Makes a pack release from a checkpoint, in one go, so the pack, the parity fixture and the
# model card's figures always come from the same weights:
#   models/story-world/release.sh runs/v2/latest.pt checkpoints/judge-v2.pt [export.py options...]
# The model card's table is evaluated in two processes (one thread each: two cores), then joined
# into results.json; the contact sheet shows the first stories of every row. Either evaluation
# failing stops the release before results.json is written.
set -euo pipefail
cd "$(dirname "$0")"
ckpt=${1:-runs/v2/latest.pt}
judge=${2:-checkpoints/judge-v2.pt}
shift 2 || true
py=${PYTHON:-/usr/bin/python3}
work=${RELEASE_WORK:-runs}   # the frozen checkpoint and each evaluation's results
mkdir -p "$work"
frozen=$work/release.pt
cp "$ckpt" "$frozen"   # training may overwrite latest.pt meanwhile
$py export.py --ckpt "$frozen" --judge "$judge" --out ../packs/story-world "$@"
$py reference.py --ckpt "$frozen" --out ../../tests/fixtures/story-world/reference.json
settings=$($py -c 'import json; m = json.load(open("../packs/story-world/manifest.json")); c = m["csa"]; d = m["defaults"]
a = c["apply_probability"]
print("--steps", d["steps"], "--guidance", d["guidance"], "--rate", c["default_rate"], "--fraction", c["reference_noise"],
      "--apply", ",".join(str(a[k]) for k in ("first_step", "before_step_20", "after")),
      *(["--first-guidance", c["identity_guidance"]] if "identity_guidance" in c else []))')
# shellcheck disable=SC2086
$py evaluate.py --ckpt "$frozen" --judge "$judge" $settings --rows named-none,none,reference --json "$work/results-a.json" \
  --sheet "$work/sheet-a.png" & a=$!
# shellcheck disable=SC2086
$py evaluate.py --ckpt "$frozen" --judge "$judge" $settings --rows joint,first --json "$work/results-b.json" \
  --sheet "$work/sheet-b.png" & b=$!
# Both waited on, each checked: `wait a && wait b` under set -e would let a failure of a pass.
status=0
wait "$a" || status=$?
wait "$b" || status=$?
[ "$status" -eq 0 ] || { echo "release.sh: an evaluation failed (exit $status); results.json not written" >&2; exit "$status"; }
RELEASE_WORK=$work $py - <<'PY'
import json
import os
import numpy as np
from PIL import Image
work = os.environ["RELEASE_WORK"]
a, b = (json.load(open(f"{work}/results-{n}.json")) for n in ("a", "b"))
a["args"]["rows"] = "named-none,none,joint,first,reference"
a["results"].update(b["results"])
json.dump(a, open("results.json", "w"), indent=1)
sheets = [np.asarray(Image.open(f"{work}/sheet-{n}.png")) for n in ("a", "b")]
gap = np.full((sheets[0].shape[0], 32, 3), 255, np.uint8)
Image.fromarray(np.concatenate([sheets[0], gap, sheets[1]], axis=1)).save("contact-sheet.png", optimize=True)
PY
