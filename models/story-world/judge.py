"""The judge: an attribute classifier for story-world frames, and the consistency metrics.

    /usr/bin/python3 models/story-world/judge.py train --out models/story-world/runs/judge.pt

It reads identity (hair, skin, shirt, trousers, hat), pose and scene from a frame. Trained on
clean renders with blur, noise and colour jitter so that it still reads the model's softer
samples. Exported to the pack as judge.onnx (input `image` [B,3,32,32] in [-1,1], one logits
output per head).
"""
from __future__ import annotations

import os

# Debian's OpenBLAS starts threads of its own that spin in sched_yield beside torch's: a third of
# each training step went to the kernel. torch.set_num_threads sets the parallelism that counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import world

HEADS = {**{k: len(v) for k, v in world.ATTRIBUTES.items()},
         "pose": len(world.POSES), "scene": len(world.SCENES)}


class Judge(nn.Module):
    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())
        self.features = nn.Sequential(block(3, 48), nn.MaxPool2d(2), block(48, 96), nn.MaxPool2d(2),
                                      block(96, 128), nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({k: nn.Linear(128, n) for k, n in HEADS.items()})

    def forward(self, image):
        f = self.features(image)
        return tuple(self.heads[k](f) for k in HEADS)


def labels_of(identity: world.Identity, pose: str, scene: str) -> list[int]:
    return identity.labels() + [world.POSES.index(pose), world.SCENES.index(scene)]


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Per-image gaussian blur, sigma [B] (0 = none)."""
    r = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-(r[None] ** 2) / (2 * sigma[:, None].clamp(min=1e-3) ** 2))
    k = k / k.sum(-1, keepdim=True)
    B, C, H, W = x.shape
    xh = F.conv2d(F.pad(x.reshape(1, B * C, H, W), (2, 2, 0, 0), mode="replicate"),
                  k.repeat_interleave(C, 0)[:, None, None, :], groups=B * C)
    xv = F.conv2d(F.pad(xh, (0, 0, 2, 2), mode="replicate"),
                  k.repeat_interleave(C, 0)[:, None, :, None], groups=B * C)
    return xv.reshape(B, C, H, W)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    B = x.shape[0]
    sigma = torch.rand(B, generator=gen) * 1.2 * (torch.rand(B, generator=gen) < 0.6)
    x = _blur(x, sigma)
    x = x * (1 + 0.08 * (torch.rand(B, 3, 1, 1, generator=gen) - 0.5)) \
        + 0.08 * (torch.rand(B, 3, 1, 1, generator=gen) - 0.5)
    noise = torch.rand(B, 1, 1, 1, generator=gen) * 0.2
    x = x + noise * torch.randn(x.shape, generator=gen)
    return x.clamp(-1, 1)


def batch(rng: np.random.Generator, n: int):
    imgs, labs = [], []
    for _ in range(n):
        ident = world.random_identity(rng)
        pose = world.POSES[rng.integers(len(world.POSES))]
        scene = world.SCENES[rng.integers(len(world.SCENES))]
        imgs.append(world.draw_frame(ident, pose, scene, rng))
        labs.append(labels_of(ident, pose, scene))
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.tensor(labs)


def train(out: str, steps: int, seed: int = 7):
    torch.manual_seed(seed)
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    net = Judge()
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps)
    for step in range(1, steps + 1):
        x, y = batch(rng, 128)
        logits = net(augment(x, gen))
        loss = sum(F.cross_entropy(l, y[:, i]) for i, l in enumerate(logits))
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if step % 100 == 0:
            print(f"judge step {step} loss {loss.item():.4f}", flush=True)
    torch.save(net.state_dict(), out)
    return net


@torch.no_grad()
def accuracy(net: Judge, n: int = 4000, seed: int = 99, augmented: bool = False) -> dict:
    net.eval()
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    x, y = batch(rng, n)
    if augmented:
        x = augment(x, gen)
    preds = [l.argmax(-1) for l in net(x)]
    return {k: float((p == y[:, i]).float().mean()) for i, (k, p) in enumerate(zip(HEADS, preds))}


@torch.no_grad()
def predict(net: Judge, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """images [B,3,32,32] in [-1,1] -> head -> predicted class [B]."""
    net.eval()
    return {k: l.argmax(-1) for k, l in zip(HEADS, net(images))}


def identity_agreement(pred: dict[str, torch.Tensor]) -> tuple[float, float]:
    """Over all frame pairs of one story: (share of identity attributes predicted equal,
    share of pairs with every identity attribute equal)."""
    n = len(pred["hair"])
    attr_eq, all_eq, pairs = 0.0, 0.0, 0
    for i, j in itertools.combinations(range(n), 2):
        eq = [bool(pred[k][i] == pred[k][j]) for k in world.IDENTITY_KEYS]
        attr_eq += sum(eq) / len(eq)
        all_eq += all(eq)
        pairs += 1
    return attr_eq / pairs, all_eq / pairs


def adherence(pred: dict[str, torch.Tensor], asked: list[dict]) -> tuple[float, float]:
    """(share of frames whose pose and scene are as asked, share whose pose, scene and every
    named attribute are as asked). asked: per frame {'pose':..,'scene':..,'hair':..,...}."""
    ps, full = 0, 0
    for i, a in enumerate(asked):
        ok_ps = world.POSES[pred["pose"][i]] == a["pose"] and world.SCENES[pred["scene"][i]] == a["scene"]
        ok_attr = all(world.ATTRIBUTES[k][pred[k][i]] == v for k, v in a.items() if k in world.ATTRIBUTES)
        ps += ok_ps
        full += ok_ps and ok_attr
    return ps / len(asked), full / len(asked)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train", "eval"])
    ap.add_argument("--out", default="runs/judge.pt")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.cmd == "train":
        net = train(args.out, args.steps)
    else:
        net = Judge(); net.load_state_dict(torch.load(args.out))
    print("clean", accuracy(net))
    print("augmented", accuracy(net, augmented=True))
