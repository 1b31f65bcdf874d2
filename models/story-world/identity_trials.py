"""Trials of the identity phase ("first" row of evaluate.py) on the same stories: which way of
drawing the first identity frame makes the frames of a story agree most.

    /usr/bin/python3 models/story-world/identity_trials.py --ckpt runs/v2/latest.pt \
        --judge checkpoints/judge-v2.pt --stories 24 --variants first,g8,best3,best3-single

Variants (identity left out of the prompts, as in evaluate.py's first row):
- first: frame 0 alone, frame 1 reads a bank of frame 0, the rest read a bank of frames 0-1;
- gN: the same with frame 0 drawn at guidance N;
- bestK: frame 0 drawn from K seeds (the frame's seed + 0..K-1), the one the judge reads with
  the most confidence kept (sum over identity heads of the log of the top probability);
- bestK-single: as bestK, then every other frame reads a bank of frame 0 alone;
- gNbestK: both (frame 0 at guidance N, the clearest of K);
- ...-recopy: frame 0 as shown is drawn again reading a bank of its first drawing (the later
  frames still read the first drawing), so every frame of the story is a copy of one source.
Prints per variant: identity per attribute and all five over frame pairs, pose+scene, and the
mean all-five match of frames 1.. with frame 0.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import re

import numpy as np
import torch

import evaluate as E
import judge as J
import sampler as S
import world


@torch.no_grad()
def confidence(net: J.Judge, imgs: torch.Tensor) -> torch.Tensor:
    """[B] sum over identity heads of log max-probability."""
    net.eval()
    logits = dict(zip(J.HEADS, net(imgs)))
    return sum(torch.log_softmax(logits[k], -1).max(-1).values for k in world.IDENTITY_KEYS)


def first_frame(runner: E.Runner, net, prompt: str, seed: int, guidance: float, candidates: int) -> torch.Tensor:
    g = runner.guidance
    runner.guidance = guidance
    try:
        imgs = S.sample(runner.text, runner.unet, [prompt] * candidates, [(seed + k) & 0xFFFFFFFF for k in range(candidates)],
                        runner.steps, guidance)
    finally:
        runner.guidance = g
    return imgs[int(confidence(net, imgs).argmax())].unsqueeze(0) if candidates > 1 else imgs


def story(runner: E.Runner, net, variant: str, prompts, seeds, csa_seed) -> torch.Tensor:
    m = re.fullmatch(r"(first|(g(?P<g>[\d.]+))?(best(?P<k>\d+))?)(?P<single>-single)?(?P<recopy>-recopy)?", variant)
    if not m:
        raise SystemExit(f"unknown variant {variant}")
    guidance = float(m["g"]) if m["g"] else runner.guidance
    k = int(m["k"]) if m["k"] else 1
    f0 = first_frame(runner, net, prompts[0], seeds[0], guidance, k)
    if m["single"]:
        bank = runner.bank(f0, prompts[:1], csa_seed)
        return torch.cat([f0, runner.read(prompts[1:], seeds[1:], bank, csa_seed)])
    n = runner.id_frames
    if m["recopy"]:
        # Frame 0 shown as a copy of itself: drawn again (same prompt and seed) reading a bank of
        # the first drawing, like every later frame; the later frames still read the first drawing.
        shown = runner.read(prompts[:1], seeds[:1], runner.bank(f0, prompts[:1], csa_seed), csa_seed)
    ids = f0
    for i in range(1, n):
        bank = runner.bank(ids, prompts[:i], csa_seed)
        ids = torch.cat([ids, runner.read(prompts[i:i + 1], seeds[i:i + 1], bank, csa_seed)])
    bank = runner.bank(ids, prompts[:n], csa_seed)
    out = torch.cat([ids, runner.read(prompts[n:], seeds[n:], bank, csa_seed)])
    if m["recopy"]:
        out[0:1] = shown
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--judge", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--stories", type=int, default=24)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--apply", default="0,1,1")
    ap.add_argument("--variants", default="first,g8,best3,best3-single")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text, unet = S.load(args.ckpt)
    net = J.Judge(); net.load_state_dict(torch.load(args.judge, map_location="cpu")); net.eval()
    layers = list(S.layer_tokens(unet))
    runner = E.Runner(text, unet, args.steps, args.guidance, args.rate, args.fraction, layers, S.layer_tokens(unet),
                      tuple(float(v) for v in args.apply.split(",")))
    ref_ids, _ = E.load_reference_set()
    specs = E.story_specs(args.seed, args.stories, len(ref_ids))
    results = {}
    print("| variant | identity per attribute | identity all five | pose+scene | all five with frame 0 |")
    for variant in args.variants.split(","):
        scores, with0 = [], []
        for spec in specs:
            labels = ref_ids[spec["reference"]]
            prompts = E.prompts_of(spec, E.identity_of(labels), False)
            seeds = [f["seed"] for f in spec["frames"]]
            imgs = story(runner, net, variant, prompts, seeds, spec["csa_seed"])
            pred = J.predict(net, imgs)
            scores.append(E.score(pred, spec, labels, "first"))
            with0.append(np.mean([all(int(pred[k][i]) == int(pred[k][0]) for k in world.IDENTITY_KEYS)
                                  for i in range(1, imgs.shape[0])]))
        m = np.mean(scores, axis=0)
        results[variant] = [float(v) for v in m] + [float(np.mean(with0))]
        print(f"| {variant} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {np.mean(with0):.3f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
