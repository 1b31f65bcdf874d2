"""Measures what CSA does on the story-world model, with the judge: the model card's table.

    /usr/bin/python3 models/story-world/evaluate.py --ckpt runs/v2/latest.pt --judge runs/judge-v2.pt

Stories of 6 frames drawn from --seed with sfrng (bench/consistency draws the same ones in
TypeScript); each frame asks for a pose and a scene. Each story's character is one of the
reference set's identities (bench/consistency/reference-set.*: two clean renders each). Rows:

- named-none: the prompts name all five attributes; no CSA;
- none: identity left out of the prompts; no CSA;
- joint: the first ID_FRAMES frames written together (StoryDiffusion's identity phase), a
  reference bank from them, the other frames read it;
- first: frame 0 alone, frame 1.. read a reference bank of the frames before them; the rest as joint;
- reference: a bank from the reference set's two clean renders; all frames read it.

Columns: identity per attribute and all five (named-none and reference: match with the
character; the other rows: agreement over frame pairs), pose+scene adherence, full adherence
(pose, scene and any named attribute as asked).
"""
from __future__ import annotations

import os

# Debian's OpenBLAS starts threads of its own that spin in sched_yield beside torch's: a third of
# each training step went to the kernel. torch.set_num_threads sets the parallelism that counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools
import json

import numpy as np
import torch

import judge as J
import sampler as S
import world
from sfrng import Rng

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_SET = os.path.join(HERE, "..", "..", "bench", "consistency", "reference-set")
FRAMES = 6
ID_FRAMES = 2
ROWS = ["named-none", "none", "joint", "first", "reference"]
# Reference banks draw their noise from the CSA seed moved by this much (the engine does too).
NOISE_SEED_OFFSET = 1_000_003


def load_reference_set():
    """(identities [N] as label lists, images [N, 2, 3, 32, 32] in [-1, 1])."""
    from PIL import Image
    meta = json.load(open(REFERENCE_SET + ".json"))
    sheet = np.asarray(Image.open(REFERENCE_SET + ".png").convert("RGB"))
    n, per = len(meta["identities"]), meta["per_identity"]
    s = world.SIZE
    imgs = sheet.reshape(n, s, per, s, 3).transpose(0, 2, 4, 1, 3)
    return meta["identities"], torch.from_numpy(imgs.astype(np.float32) / 127.5 - 1.0)


def story_specs(seed: int, n: int, references: int) -> list[dict]:
    """The stories of one seed: reference index, CSA seed, frames (pose, scene, seed)."""
    rng = Rng(seed)
    out = []
    for _ in range(n):
        ref = rng.below(references)
        csa_seed = rng.next_u32()
        frames = [{"pose": world.POSES[rng.below(len(world.POSES))],
                   "scene": world.SCENES[rng.below(len(world.SCENES))],
                   "seed": rng.next_u32()} for _ in range(FRAMES)]
        out.append({"reference": ref, "csa_seed": csa_seed, "frames": frames})
    return out


def identity_of(labels: list[int]) -> world.Identity:
    return world.Identity(**{k: world.ATTRIBUTES[k][labels[i]] for i, k in enumerate(world.IDENTITY_KEYS)})


def prompts_of(story: dict, identity: world.Identity, named: bool) -> list[str]:
    keys = world.IDENTITY_KEYS if named else []
    return [world.caption(identity, keys, f["pose"], f["scene"]) for f in story["frames"]]


class Runner:
    def __init__(self, text, unet, steps, guidance, rate, fraction, layers, tokens, apply=S.STORY_DIFFUSION_APPLY):
        self.text, self.unet = text, unet
        self.apply = tuple(apply)
        self.steps, self.guidance, self.fraction = steps, guidance, fraction
        self.layers, self.tokens = layers, tokens
        self.rates = {n: rate for n in set(tokens.values())}
        self.id_frames = ID_FRAMES
        # Guidance of the first identity frame (first row); None: the story's.
        self.first_guidance = None

    def plan(self, seed: int, frames: int) -> S.CSAPlan:
        return S.CSAPlan.make(seed, self.steps, self.layers, self.tokens, self.rates, frames, self.apply)

    def plain(self, prompts, seeds):
        return S.sample(self.text, self.unet, prompts, seeds, self.steps, self.guidance)

    def joint(self, prompts, seeds, csa_seed):
        return S.sample(self.text, self.unet, prompts, seeds, self.steps, self.guidance,
                        S.StoryCSA("write", self.plan(csa_seed, len(prompts))), self.layers)

    def bank(self, images, prompts, csa_seed):
        return S.reference_bank(self.text, self.unet, images, prompts, self.steps,
                                self.plan(csa_seed, images.shape[0]),
                                (csa_seed + NOISE_SEED_OFFSET) & 0xFFFFFFFF, self.fraction, self.layers)

    def read(self, prompts, seeds, bank, csa_seed):
        reader = S.StoryCSA("read", self.plan((csa_seed + 1) & 0xFFFFFFFF, 0), bank)
        return torch.cat([S.sample(self.text, self.unet, [p], [s], self.steps, self.guidance, reader, self.layers)
                          for p, s in zip(prompts, seeds)])

    def identity_frames(self, prompts, seeds, csa_seed, write: str):
        """The identity phase as the engine runs it: jointly, or the first frame alone and
        each next one reading a reference bank of the ones before it."""
        if write == "joint":
            return self.joint(prompts, seeds, csa_seed)
        imgs = S.sample(self.text, self.unet, prompts[:1], seeds[:1], self.steps, self.first_guidance or self.guidance)
        for i in range(1, len(prompts)):
            bank = self.bank(imgs, prompts[:i], csa_seed)
            imgs = torch.cat([imgs, self.read(prompts[i:i + 1], seeds[i:i + 1], bank, csa_seed)])
        return imgs

    def story(self, row: str, prompts, seeds, csa_seed, references=None, ref_prompts=None):
        if row in ("none", "named-none"):
            return self.plain(prompts, seeds)
        if row == "reference":
            return self.read(prompts, seeds, self.bank(references, ref_prompts, csa_seed), csa_seed)
        n = self.id_frames
        ids = self.identity_frames(prompts[:n], seeds[:n], csa_seed, row)
        bank = self.bank(ids, prompts[:n], csa_seed)
        return torch.cat([ids, self.read(prompts[n:], seeds[n:], bank, csa_seed)])


def score(pred: dict, story: dict, identity: list[int], row: str) -> np.ndarray:
    """[identity per attribute, identity all five, pose+scene, full] for one story."""
    keys = world.IDENTITY_KEYS
    n = len(pred["hair"])
    if row in ("named-none", "reference"):
        eq = np.array([[int(pred[k][i]) == identity[j] for j, k in enumerate(keys)] for i in range(n)])
    else:
        eq = np.array([[int(pred[k][i]) == int(pred[k][j]) for k in keys]
                       for i, j in itertools.combinations(range(n), 2)])
    ps = np.array([world.POSES[int(pred["pose"][i])] == f["pose"] and world.SCENES[int(pred["scene"][i])] == f["scene"]
                   for i, f in enumerate(story["frames"])])
    if row == "named-none":
        named_ok = np.array([all(int(pred[k][i]) == identity[j] for j, k in enumerate(keys)) for i in range(n)])
        full = float((ps & named_ok).mean())
    else:
        full = float(ps.mean())
    return np.array([eq.mean(), eq.all(axis=1).mean(), ps.mean(), full])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--judge", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--stories", type=int, default=50)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--fraction", type=float, default=0.5, help="reference noise: a share of each step's timestep")
    ap.add_argument("--apply", default="0,0.7,0.9",
                    help="CSA apply probability at step 0, steps 1-19, steps 20+ (StoryDiffusion's by default)")
    ap.add_argument("--id-frames", type=int, default=ID_FRAMES, help="identity frames of the joint and first rows")
    ap.add_argument("--first-guidance", type=float, default=None,
                    help="guidance of the first identity frame in the first row (the pack's csa.identity_guidance)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layers", default="", help="prefix of the self-attention layers that take CSA ('' for all)")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--json", default=None)
    ap.add_argument("--sheet", default=None, help="write a contact sheet PNG of the first stories")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text, unet = S.load(args.ckpt)
    net = J.Judge(); net.load_state_dict(torch.load(args.judge, map_location="cpu")); net.eval()
    tokens_all = S.layer_tokens(unet)
    layers = [n for n in tokens_all if n.startswith(args.layers)]
    tokens = {n: tokens_all[n] for n in layers}
    apply = tuple(float(v) for v in args.apply.split(","))
    runner = Runner(text, unet, args.steps, args.guidance, args.rate, args.fraction, layers, tokens, apply)
    runner.id_frames = args.id_frames
    runner.first_guidance = args.first_guidance
    ref_ids, ref_imgs = load_reference_set()
    ref_meta = json.load(open(REFERENCE_SET + ".json"))
    specs = story_specs(args.seed, args.stories, len(ref_ids))
    results, sheets = {}, {}
    print("| row | identity per attribute | identity all five | pose+scene | full |")
    for row in args.rows.split(","):
        scores = []
        for k, story in enumerate(specs):
            labels = ref_ids[story["reference"]]
            prompts = prompts_of(story, identity_of(labels), row.startswith("named"))
            seeds = [f["seed"] for f in story["frames"]]
            ref_prompts = [world.caption(identity_of(labels), [], p, s)
                           for p, s in ref_meta["actions"][story["reference"]]]
            imgs = runner.story(row, prompts, seeds, story["csa_seed"], ref_imgs[story["reference"]], ref_prompts)
            scores.append(score(J.predict(net, imgs), story, labels, row))
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
