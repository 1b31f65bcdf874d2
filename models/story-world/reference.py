"""Writes the parity fixtures the TypeScript engine must reproduce (within 1e-3).

    /usr/bin/python3 models/story-world/reference.py --ckpt runs/main/latest.pt \
        --out ../../tests/fixtures/story-world/reference.json

Each case records its inputs (prompts, seeds, steps, guidance, CSA rate and seed), what the
engine derives from them (token ids, initial noise, DDIM timesteps, the CSA plan: sampled
token indices and apply decisions) and the outputs (images in [-1, 1]).
"""
from __future__ import annotations

import os

# Debian's OpenBLAS starts threads of its own that spin in sched_yield beside torch's: a third of
# each training step went to the kernel. torch.set_num_threads sets the parallelism that counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json

import numpy as np
import torch

import evaluate as E
import sampler as S
import world

STEPS = 8
GUIDANCE = 4.0
RATE = 1.0
FRACTION = 0.5


def case_plain(text, unet):
    prompts = ["a person with red hair waving in the city", "a person sitting on the beach"]
    seeds = [11, 12]
    imgs = S.sample(text, unet, prompts, seeds, STEPS, GUIDANCE)
    return {"name": "plain", "prompts": prompts, "seeds": seeds, "images": imgs}


def case_csa(runner, layers, tokens):
    """The engine's bank build both ways (joint and first), each followed by a frame that
    reads the bank; and a bank from given pictures (the reference set's first identity)."""
    id_prompts = ["a person jumping in the forest", "a person standing in the snow"]
    id_seeds = [21, 22]
    csa_seed = 5
    read_prompts, read_seeds = ["a person waving at night"], [23]
    out = {"name": "csa", "rate": runner.rates[next(iter(runner.rates))], "reference_noise": runner.fraction,
           "identity": {"prompts": id_prompts, "seeds": id_seeds, "csa_seed": csa_seed},
           "read": {"prompts": read_prompts, "seeds": read_seeds}}
    for write in ("joint", "first"):
        ids = runner.identity_frames(id_prompts, id_seeds, csa_seed, write)
        bank = runner.bank(ids, id_prompts, csa_seed)
        out[write] = {"identity_images": ids,
                      "read_images": runner.read(read_prompts, read_seeds, bank, csa_seed),
                      "bank_last_step": {layers[0]: bank[(STEPS - 1, layers[0])]}}
    if "plan" not in out:
        out["plan"] = plan_json(runner.plan(csa_seed, len(id_prompts)))
    ref_ids, ref_imgs = E.load_reference_set()
    pictures = ref_imgs[0]
    ref_prompts = ["a person", "a person"]
    bank = runner.bank(pictures, ref_prompts, csa_seed)
    out["reference"] = {"pictures": pictures, "prompts": ref_prompts,
                        "read_images": runner.read(read_prompts, read_seeds, bank, csa_seed)}
    out["read"]["images_without_csa"] = runner.plain(read_prompts, read_seeds)
    return out


def stories_fixture():
    """What bench/consistency must draw for a seed: story specs and the first story's captions."""
    ref_ids, _ = E.load_reference_set()
    specs = E.story_specs(2026, 3, len(ref_ids))
    first = specs[0]
    named = E.prompts_of(first, E.identity_of(ref_ids[first["reference"]]), True)
    return {"seed": 2026, "references": len(ref_ids), "specs": specs, "named_captions": named}


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
    ap.add_argument("--manifest", default=os.path.join(E.HERE, "..", "packs", "story-world", "manifest.json"),
                    help="the exported pack's manifest: its CSA apply schedule is what the engine uses")
    args = ap.parse_args()
    ap_ = json.load(open(args.manifest))["csa"]["apply_probability"]
    apply = (ap_["first_step"], ap_["before_step_20"], ap_["after"])
    torch.set_num_threads(1)
    text, unet = S.load(args.ckpt)
    tokens_all = S.layer_tokens(unet)
    layers = list(tokens_all)
    tokens = dict(tokens_all)
    vocab = world.vocabulary()
    runner = E.Runner(text, unet, STEPS, GUIDANCE, RATE, FRACTION, layers, tokens, apply)
    cases = [case_plain(text, unet), case_csa(runner, layers, tokens)]
    noise_seeds = [11, 21, 23]
    fixture = {
        "steps": STEPS, "guidance": GUIDANCE, "scheduler": "ddim",
        "timesteps": S.ddim_timesteps(STEPS),
        "csa_layers": layers, "layer_tokens": tokens,
        "apply_probability": dict(zip(("first_step", "before_step_20", "after"), apply)),
        "tokens": {p: world.tokenize(p, vocab) for p in
                   ["a person with red hair waving in the city", "", "A Person, with PURPLE zebra hair!",
                    world.caption(world.Identity("blonde", "pale", "orange", "white", "top hat"),
                                  world.IDENTITY_KEYS, "jumping", "desert")]},
        "noise": {str(s): S.initial_noise(s) for s in noise_seeds},
        "cases": cases,
        "stories": stories_fixture(),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(to_json(fixture), f)
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
