#!/usr/bin/env bash
# One bounded training run of the story-world model on a CUDA machine (the device tool's H200),
# resuming from the committed fp16 EMA checkpoint, writing its checkpoint under a given folder:
#
#   models/story-world/train-on-device.sh "$OUT"          # from the repository root
#
# Under 10 minutes in all: MINUTES of training (default 8) with a large batch, then the
# full checkpoint (latest.pt), the fp16 EMA snapshot to commit and the loss log in "$1".
# CPU training then resumes from it: train.py --out runs/v2 --init "$1"/story-world-v2-ema-fp16.pt
# (or copy "$1"/latest.pt to runs/v2/latest.pt to keep the optimizer state).
set -euo pipefail
out=${1:?usage: train-on-device.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
py=${PYTHON:-python3}
"$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device visible to torch")'
init=()
[ -f "$here/checkpoints/story-world-v2-ema-fp16.pt" ] && init=(--init "$here/checkpoints/story-world-v2-ema-fp16.pt")
cd "$here"
# 16x the CPU batch (128 groups of 4 frames); the learning rate grows with its square root.
"$py" train.py --out "$out/run" "${init[@]}" --steps 10000000 --minutes "${MINUTES:-8}" \
  --groups 128 --group-size 4 --lr 3e-3 --warmup 100 --ema 0.998 --save-every 500 --threads 8 \
  --snapshot "$out/story-world-v2-ema-fp16.pt" 2>&1 | tee "$out/train.log"
cp "$out/run/loss.csv" "$out/loss.csv"
