"""Writes the reference set: clean renders the consistency table's reference-bank row reads.

    /usr/bin/python3 models/story-world/reference_set.py

bench/consistency/reference-set.png holds one row per identity, PER_IDENTITY frames of it
(other poses and scenes) side by side; reference-set.json its identity labels (in
world.IDENTITY_KEYS order) and each frame's (pose, scene). Committed, so the TypeScript bench
and its test use the same pictures without Python.
"""
from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image

import world

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "bench", "consistency", "reference-set")
IDENTITIES = 128
PER_IDENTITY = 2


def main():
    rng = np.random.default_rng(20261130)
    rows, identities, actions = [], [], []
    for _ in range(IDENTITIES):
        ident = world.random_identity(rng)
        frames, acts = [], []
        for _ in range(PER_IDENTITY):
            pose = world.POSES[rng.integers(len(world.POSES))]
            scene = world.SCENES[rng.integers(len(world.SCENES))]
            frames.append(world.draw_frame(ident, pose, scene, rng))
            acts.append([pose, scene])
        rows.append(np.concatenate(frames, axis=1))
        identities.append(ident.labels())
        actions.append(acts)
    Image.fromarray(np.concatenate(rows, axis=0)).save(OUT + ".png", optimize=True)
    with open(OUT + ".json", "w") as f:
        json.dump({"per_identity": PER_IDENTITY, "identity_keys": world.IDENTITY_KEYS,
                   "identities": identities, "actions": actions}, f)
    print("wrote", OUT + ".png", os.path.getsize(OUT + ".png"), "bytes")


if __name__ == "__main__":
    main()
