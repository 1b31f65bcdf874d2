#!/usr/bin/env bash
# Makes a pack release from a checkpoint, in one go, so the pack, the parity fixture and the
# model card's figures always come from the same weights:
#   models/story-world/release.sh runs/main/latest.pt runs/judge.pt
set -euo pipefail
cd "$(dirname "$0")"
ckpt=${1:-runs/main/latest.pt}
judge=${2:-runs/judge.pt}
py=/usr/bin/python3
frozen=runs/release.pt
cp "$ckpt" "$frozen"   # training may overwrite latest.pt meanwhile
$py export.py --ckpt "$frozen" --judge "$judge" --out ../packs/story-world
$py reference.py --ckpt "$frozen" --out ../../tests/fixtures/story-world/reference.json
$py evaluate.py --ckpt "$frozen" --judge "$judge" --threads 2 --json results.json --sheet contact-sheet.png
