"""Writes the parity fixtures the TypeScript engine must reproduce (within 1e-3).

    /usr/bin/python3 models/story-world/reference.py --ckpt runs/main/latest.pt \
        --out ../../tests/fixtures/story-world/reference.json

Each case records its inputs (prompts, seeds, steps, guidance, CSA rate and seed), what the
engine derives from them (token ids, initial noise, DDIM timesteps, the CSA plan: sampled
token indices and apply decisions) and the outputs (images in [-1, 1]).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

import sampler as S
import world

STEPS = 8
GUIDANCE = 5.0


def case_plain(text, unet):
    prompts = ["a person with red hair waving in the city", "a person sitting on the beach"]
    seeds = [11, 12]
    imgs = S.sample(text, unet, prompts, seeds, STEPS, GUIDANCE)
    return {"name": "plain", "prompts": prompts, "seeds": seeds, "images": imgs}


def case_csa(text, unet, layers, tokens):
    """Identity phase over two frames, then one frame that reads their bank."""
    rate = 0.5
    rates = {n: rate for n in set(tokens.values())}
    id_prompts = ["a person jumping in the forest", "a person standing in the snow"]
    id_seeds = [21, 22]
    write_seed, read_seed = 5, 6
    plan = S.CSAPlan.make(write_seed, STEPS, layers, tokens, rates, len(id_prompts))
    writer = S.StoryCSA("write", plan)
    id_imgs = S.sample(text, unet, id_prompts, id_seeds, STEPS, GUIDANCE, writer, layers)
    read_prompts, read_seeds = ["a person waving at night"], [23]
    read_plan = S.CSAPlan.make(read_seed, STEPS, layers, tokens, rates, 0)
    read_imgs = S.sample(text, unet, read_prompts, read_seeds, STEPS, GUIDANCE,
                         S.StoryCSA("read", read_plan, writer.bank), layers)
    plain_read = S.sample(text, unet, read_prompts, read_seeds, STEPS, GUIDANCE)
    return {
        "name": "csa", "rate": rate,
        "identity": {"prompts": id_prompts, "seeds": id_seeds, "csa_seed": write_seed,
                     "plan": plan_json(plan), "images": id_imgs},
        "read": {"prompts": read_prompts, "seeds": read_seeds, "csa_seed": read_seed,
                 "plan": plan_json(read_plan), "images": read_imgs, "images_without_csa": plain_read},
    }


def plan_json(plan: S.CSAPlan):
    return {"indices": [{str(n): idx for n, idx in step.items()} for step in plan.indices],
            "apply": plan.apply}


def to_json(obj):
    if isinstance(obj, torch.Tensor):
        return {"dims": list(obj.shape), "data": [round(float(v), 7) for v in obj.flatten()]}
    if isinstance(obj, np.ndarray):
        return to_json(torch.from_numpy(obj))
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_json(v) for v in obj]
    return obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    text, unet = S.load(args.ckpt)
    tokens_all = S.layer_tokens(unet)
    layers = [n for n in tokens_all if n.startswith("up_blocks.")]
    tokens = {n: tokens_all[n] for n in layers}
    vocab = world.vocabulary()
    cases = [case_plain(text, unet), case_csa(text, unet, layers, tokens)]
    noise_seeds = [11, 21, 23]
    fixture = {
        "steps": STEPS, "guidance": GUIDANCE, "scheduler": "ddim",
        "timesteps": S.ddim_timesteps(STEPS),
        "csa_layers": layers, "layer_tokens": tokens,
        "apply_probability": {"first_step": 0.0, "before_step_20": 0.7, "after": 0.9},
        "tokens": {p: world.tokenize(p, vocab) for p in
                   ["a person with red hair waving in the city", "", "A Person, with PURPLE zebra hair!"]},
        "noise": {str(s): S.initial_noise(s) for s in noise_seeds},
        "cases": cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(to_json(fixture), f)
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
