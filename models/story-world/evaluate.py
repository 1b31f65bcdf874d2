"""Measures what CSA does on the story-world model, with the judge. Prints the model card table.

    /usr/bin/python3 models/story-world/evaluate.py --ckpt runs/main/latest.pt --judge runs/judge.pt

Stories of 6 frames with fixed seeds; each frame asks for a pose and a scene. Rows:
- unnamed identity ("a person waving in the city"): no CSA; CSA identity phase (all six frames
  written together); CSA read phase (the first `--id-frames` written, the others read the bank);
- named identity (the character description names two attributes, the others are left to
  the model): no CSA; CSA read phase.
Columns: identity agreement (share of attributes equal over frame pairs; share of pairs with
all five equal), pose+scene adherence, full adherence (pose, scene and named attributes).
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import judge as J
import sampler as S
import world

FRAMES = 6


def story_specs(n: int, seed: int, named: int):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        ident = world.random_identity(rng)
        keys = list(rng.choice(world.IDENTITY_KEYS, size=named, replace=False)) if named else []
        desc = world.identity_phrase(ident, keys)
        frames = []
        for i in range(FRAMES):
            pose = world.POSES[rng.integers(len(world.POSES))]
            scene = world.SCENES[rng.integers(len(world.SCENES))]
            asked = {"pose": pose, "scene": scene, **{kk: getattr(ident, kk) for kk in keys}}
            frames.append((f"{desc} {world.action_phrase(pose, scene)}", 10_000 * (k + 1) + i, asked))
        out.append(frames)
    return out


def generate(text, unet, frames, mode: str, rate: float, id_frames: int, steps: int, guidance: float,
             csa_seed: int, layers: list[str], tokens: dict[str, int]):
    prompts = [f[0] for f in frames]
    seeds = [f[1] for f in frames]
    if mode == "none":
        return S.sample(text, unet, prompts, seeds, steps, guidance)
    rates = {n: rate for n in set(tokens.values())}
    if mode == "identity":
        plan = S.CSAPlan.make(csa_seed, steps, layers, tokens, rates, len(frames))
        return S.sample(text, unet, prompts, seeds, steps, guidance, S.StoryCSA("write", plan), layers)
    plan = S.CSAPlan.make(csa_seed, steps, layers, tokens, rates, id_frames)
    writer = S.StoryCSA("write", plan)
    first = S.sample(text, unet, prompts[:id_frames], seeds[:id_frames], steps, guidance, writer, layers)
    # Read frames draw their apply coins from csa_seed + 1, as the engine does: a frame then
    # renders the same alone or in any batch.
    read_plan = S.CSAPlan.make(csa_seed + 1, steps, layers, tokens, rates, 0)
    rest = []
    for i in range(id_frames, len(frames)):
        rest.append(S.sample(text, unet, prompts[i:i + 1], seeds[i:i + 1], steps, guidance,
                             S.StoryCSA("read", read_plan, writer.bank), layers))
    return torch.cat([first] + rest)


def score(net, images, frames):
    pred = J.predict(net, images)
    attr, allp = J.identity_agreement(pred)
    ps, full = J.adherence(pred, [f[2] for f in frames])
    return np.array([attr, allp, ps, full])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--judge", required=True)
    ap.add_argument("--stories", type=int, default=50)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=0.5)
    ap.add_argument("--id-frames", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layers", default="up_blocks.",
                    help="prefix of the self-attention layers that take CSA ('' for all)")
    ap.add_argument("--rows", default="none,identity,read,named-none,named-read")
    ap.add_argument("--json", default=None)
    ap.add_argument("--sheet", default=None, help="write a contact sheet PNG of the first stories")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text, unet = S.load(args.ckpt)
    net = J.Judge(); net.load_state_dict(torch.load(args.judge, map_location="cpu")); net.eval()
    tokens_all = S.layer_tokens(unet)
    layers = [n for n in tokens_all if n.startswith(args.layers)]
    tokens = {n: tokens_all[n] for n in layers}
    results, sheets = {}, {}
    for row in args.rows.split(","):
        named = 2 if row.startswith("named") else 0
        mode = row.split("-")[-1]
        specs = story_specs(args.stories, 2024 + named, named)
        scores = []
        for k, frames in enumerate(specs):
            imgs = generate(text, unet, frames, mode, args.rate, args.id_frames, args.steps,
                            args.guidance, 77 + k, layers, tokens)
            scores.append(score(net, imgs, frames))
            if k < 4:
                sheets.setdefault(row, []).append(S.to_uint8(imgs))
        m = np.mean(scores, axis=0)
        results[row] = [float(v) for v in m]
        print(f"| {row} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.3f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    if args.sheet:
        from PIL import Image
        rows = [np.concatenate([np.concatenate(list(story), axis=1) for story in sheets[r]], axis=0)
                for r in sheets]
        gap = np.full((rows[0].shape[0], 8, 3), 255, np.uint8)
        img = np.concatenate([x for r in rows for x in (r, gap)][:-1], axis=1)
        Image.fromarray(img).resize((img.shape[1] * 4, img.shape[0] * 4), Image.NEAREST).save(args.sheet)


if __name__ == "__main__":
    main()
