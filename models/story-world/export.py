"""Exports the story-world pack: ONNX graphs (opset 17), tokenizer, manifest.

    /usr/bin/python3 models/story-world/export.py --ckpt runs/main/latest.pt \
        --judge runs/judge.pt --out ../packs/story-world

The UNet is exported with plain attention: CSA is added by the engine's graph patch, which
finds the self-attention layers by their diffusers scope names (kept by the export).
"""
from __future__ import annotations

import os

# Debian's OpenBLAS starts threads of its own that spin in sched_yield beside torch's: a third of
# each training step went to the kernel. torch.set_num_threads sets the parallelism that counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import hashlib
import json

import numpy as np
import onnx
import torch

import judge as J
import sampler
import schedule
import world
from train import CSA_PREFIX

OPSET = 17
IDENTITY_ACTIONS = [("standing", "city"), ("walking", "forest"), ("waving", "beach"),
                    ("sitting", "snow"), ("jumping", "desert"), ("standing", "night")]


def export_text(text, path):
    ids = torch.zeros(2, world.MAX_TOKENS, dtype=torch.long)
    torch.onnx.export(text, (ids,), path, opset_version=OPSET, input_names=["input_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})


def export_unet(unet, path):
    c = unet.cfg
    args = (torch.randn(2, 3, c.sample_size, c.sample_size), torch.tensor([999.0, 500.0]),
            torch.randn(2, world.MAX_TOKENS, c.cross_attention_dim))
    torch.onnx.export(unet, args, path, opset_version=OPSET,
                      input_names=["sample", "timestep", "encoder_hidden_states"],
                      output_names=["out_sample"],
                      dynamic_axes={"sample": {0: "batch"}, "timestep": {0: "batch"},
                                    "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch"}})


def export_judge(net, path):
    torch.onnx.export(net.eval(), (torch.zeros(2, 3, world.SIZE, world.SIZE),), path, opset_version=OPSET,
                      input_names=["image"], output_names=list(J.HEADS),
                      dynamic_axes={"image": {0: "batch"}, **{k: {0: "batch"} for k in J.HEADS}})


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--judge", required=True)
    ap.add_argument("--out", required=True)
    # The pack's defaults, from the model card's sweeps (MODEL_CARD.md).
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--write", choices=["joint", "first"], default="joint")
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--identity-guidance", type=float, default=None,
                    help="guidance of the first identity frame (first write); default: the story's guidance")
    ap.add_argument("--apply", default="0,0.7,0.9", help="CSA apply probability: step 0, steps 1-19, steps 20+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    text, unet = sampler.load(args.ckpt)
    step = torch.load(args.ckpt, map_location="cpu")["step"]
    net = J.Judge(); net.load_state_dict(torch.load(args.judge, map_location="cpu")); net.eval()

    files = {"text_encoder": "text_encoder.onnx", "unet": "unet.onnx", "judge": "judge.onnx",
             "tokenizer": "tokenizer.json", "world": "world.json"}
    export_text(text, os.path.join(args.out, files["text_encoder"]))
    export_unet(unet, os.path.join(args.out, files["unet"]))
    export_judge(net, os.path.join(args.out, files["judge"]))
    for key in ("text_encoder", "unet", "judge"):
        onnx.checker.check_model(os.path.join(args.out, files[key]))
    with open(os.path.join(args.out, files["tokenizer"]), "w") as f:
        json.dump(world.tokenizer_json(), f, indent=1)
    with open(os.path.join(args.out, files["world"]), "w") as f:
        json.dump(world.world_json(), f, indent=1)

    tokens = sampler.layer_tokens(unet)
    layers = unet.self_attention_layers()
    manifest = {
        "format": "storyforge-pack/1",
        "name": "story-world",
        "description": "Pixel-art story world v2, trained here (see models/story-world/MODEL_CARD.md).",
        "family": "story-world",
        "training_step": step,
        "files": files,
        "space": "pixel",
        "sample": {"channels": 3, "height": world.SIZE, "width": world.SIZE},
        "scale_factor": 1,
        "latent_scale": 1.0,
        "upscale": {"factor": 8, "kernel": "nearest"},
        "text": {"max_length": world.MAX_TOKENS, "hidden_size": text.cfg.width,
                 "tokenizer": "story-world-words"},
        "scheduler": {**schedule.scheduler_config(), "timestep_spacing": "trailing",
                      "steps_offset": 0, "set_alpha_to_one": True,
                      "clip_sample": sampler.CLIP_SAMPLE, "clip_sample_range": 1.0},
        "defaults": {"scheduler": "ddim", "steps": args.steps, "guidance": args.guidance,
                     "negative_prompt": "",
                     # The model only knows captions with an action: identity frames get one each.
                     "identity_prompts": [f"{{description}} {world.action_phrase(p, s)}" for p, s in IDENTITY_ACTIONS]},
        "self_attention": [{"name": name, "tokens": tokens[name], "channels": a.to_q.in_features,
                            "heads": a.heads, "csa": name.startswith(CSA_PREFIX)}
                           for name, a in layers.items()],
        "csa": {"layers": [n for n in layers if n.startswith(CSA_PREFIX)],
                "default_rate": args.rate,
                "identity_write": args.write,
                "reference_noise": args.fraction,
                **({"identity_guidance": args.identity_guidance} if args.identity_guidance is not None else {}),
                "apply_probability": dict(zip(("first_step", "before_step_20", "after"),
                                              (float(v) for v in args.apply.split(",")))),
                "trained_with_csa": True},
        "judge": {"heads": {k: (world.ATTRIBUTES[k] if k in world.ATTRIBUTES else
                                world.POSES if k == "pose" else world.SCENES) for k in J.HEADS},
                  "identity": world.IDENTITY_KEYS},
        "sha256": {},
    }
    for key in ("text_encoder", "unet", "judge"):
        manifest["sha256"][files[key]] = sha256(os.path.join(args.out, files[key]))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({k: os.path.getsize(os.path.join(args.out, v)) for k, v in files.items()}))


if __name__ == "__main__":
    main()
