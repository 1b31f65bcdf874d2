"""Trains the story-world text encoder + UNet, CSA-aware (see csa_train.py).

    /usr/bin/python3 models/story-world/train.py --out models/story-world/runs/main --steps 20000

Resumes from <out>/latest.pt when it exists. Writes <out>/loss.csv (step, loss, seconds).
Runs on CUDA when present, else on CPU threads (--threads).
"""
from __future__ import annotations

import os

# Debian's OpenBLAS starts threads of its own that spin in sched_yield beside torch's: a third of
# each training step went to the kernel. torch.set_num_threads sets the parallelism that counts.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import copy
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

import model as M
import schedule
import world
from csa_train import GroupCSA
from data import GroupSampler

# The layers that carry CSA: every self-attention layer (8x8 and 4x4 grids). Training and
# the exported manifest use the same list.
CSA_PREFIX = ""


def csa_layers(unet) -> list:
    return [a for name, a in unet.self_attention_layers().items() if name.startswith(CSA_PREFIX)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--group-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--layer-prob", type=float, default=0.8)
    ap.add_argument("--no-csa-prob", type=float, default=0.25)
    ap.add_argument("--joint-prob", type=float, default=0.2,
                    help="share of groups written jointly (identity phase) instead of from references")
    ap.add_argument("--same-t-prob", type=float, default=0.3,
                    help="share of reference groups whose references are noised to t itself")
    ap.add_argument("--minutes", type=float, default=0,
                    help="stop (and save) after this much wall time (0: no limit)")
    ap.add_argument("--snapshot", default=None,
                    help="also write the EMA weights in fp16 here at every save (a file to commit)")
    ap.add_argument("--init", default=None,
                    help="start from a committed fp16 weights file (checkpoints/*.pt) when <out> has no latest.pt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(args.out, exist_ok=True)
    vocab = world.vocabulary()
    ucfg, tcfg = M.UNetConfig(), M.TextConfig(vocab_size=len(vocab), max_length=world.MAX_TOKENS)
    text, unet = M.TextEncoder(tcfg).to(dev), M.UNet2DConditionModel(ucfg).to(dev)
    params = list(text.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    ema = {"text": copy.deepcopy(text).eval(), "unet": copy.deepcopy(unet).eval()}
    step, seconds = 0, 0.0   # seconds: wall time trained before this run, carried in checkpoints
    ckpt_path = os.path.join(args.out, "latest.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=dev)
        text.load_state_dict(ck["text"]); unet.load_state_dict(ck["unet"])
        ema["text"].load_state_dict(ck["ema_text"]); ema["unet"].load_state_dict(ck["ema_unet"])
        opt.load_state_dict(ck["opt"])
        step, seconds = ck["step"], ck.get("seconds", 0.0)
        print(f"resumed at step {step}", flush=True)
    elif args.init:
        # The committed file holds only the EMA weights (fp16, to stay small): both the live and
        # the EMA copies start from them, with a fresh optimizer.
        ck = torch.load(args.init, map_location=dev)
        for key, live in (("text", text), ("unet", unet)):
            weights = {k: v.float() for k, v in ck[f"ema_{key}"].items()}
            live.load_state_dict(weights); ema[key].load_state_dict(weights)
        step, seconds = ck["step"], ck.get("seconds", 0.0)
        print(f"started from {args.init} at step {step}", flush=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({"unet": ucfg.__dict__, "text": tcfg.__dict__, "args": vars(args),
                   "csa_prefix": CSA_PREFIX}, f, indent=1, default=list)

    # Reseeding from the step keeps a resumed run reproducible.
    torch.manual_seed(args.seed + step)
    gen = torch.Generator().manual_seed(args.seed * 7 + step)
    sampler = GroupSampler(args.seed + step, args.groups, args.group_size)
    acp = schedule.alphas_cumprod().float().to(dev)
    layers = csa_layers(unet)
    token_counts = sorted({(ucfg.sample_size // ucfg.patch // 2 ** i) ** 2
                           for i, a in enumerate(ucfg.block_attention) if a})
    log = open(os.path.join(args.out, "loss.csv"), "a")
    B, G = args.groups, args.group_size
    t0 = time.time()
    while step < args.steps and not (args.minutes and time.time() - t0 > 60 * args.minutes):
        x0, ids = sampler.batch()
        x0, ids = x0.to(dev), ids.to(dev)
        t_group = torch.randint(0, schedule.TRAIN_TIMESTEPS, (B,), generator=gen)
        joint = torch.rand(B, generator=gen) < args.joint_prob
        n_src = torch.where(joint, torch.randint(2, G + 1, (B,), generator=gen),
                            torch.randint(1, 3, (B,), generator=gen)).clamp(max=G - 1)
        # References are noised to u*t: the bank is written from cleaner pictures than the
        # frames that read it (u = 1 is the "first frame alone, others read it" case).
        u = torch.where(torch.rand(B, generator=gen) < args.same_t_prob, torch.ones(B),
                        torch.rand(B, generator=gen))
        u = torch.where(joint, torch.ones(B), u)
        is_src = torch.arange(G)[None, :] < n_src[:, None]
        t = torch.where(is_src, (u * t_group)[:, None].round().long(), t_group[:, None]).reshape(-1).to(dev)
        noise = torch.randn(x0.shape, generator=gen).to(dev)
        a = acp[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise

        no_csa = torch.rand(B, generator=gen) < args.no_csa_prob
        shares = {n: torch.where(no_csa, torch.zeros(B), 0.5 + 0.5 * torch.rand(B, generator=gen))
                  for n in token_counts}
        ctl = GroupCSA(B, G, shares, n_src, joint, args.layer_prob, gen)
        for layer in layers:
            layer.csa = ctl
        v_pred = unet.predict_v(xt, t, text(ids))
        for layer in layers:
            layer.csa = None
        # v-loss: the UNet's epsilon output is sqrt(1-a) x_t + sqrt(a) v (see model.py), and
        # |v - v*|^2 weights every noise level alike where |eps - eps*|^2 would ignore x0 at
        # high noise (its weight there is a).
        v_target = a.sqrt() * noise - (1 - a).sqrt() * x0
        loss = F.mse_loss(v_pred, v_target)

        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for key, live in (("text", text), ("unet", unet)):
                for pe, p in zip(ema[key].parameters(), live.parameters()):
                    pe.mul_(decay).add_(p.detach(), alpha=1 - decay)
        log.write(f"{step},{loss.item():.5f},{seconds + time.time() - t0:.1f}\n")
        if step % 20 == 0:
            log.flush()
            print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        done = step == args.steps or (args.minutes and time.time() - t0 > 60 * args.minutes)
        if step % args.save_every == 0 or done:
            ck = {"text": text.state_dict(), "unet": unet.state_dict(),
                  "ema_text": ema["text"].state_dict(), "ema_unet": ema["unet"].state_dict(),
                  "opt": opt.state_dict(), "step": step, "seconds": seconds + time.time() - t0,
                  "unet_config": ucfg.__dict__, "text_config": tcfg.__dict__}
            torch.save(ck, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
            if args.snapshot:
                torch.save({k: ({n: w.half() for n, w in v.items()} if k.startswith("ema_") else v)
                            for k, v in ck.items() if k in ("ema_text", "ema_unet", "step", "seconds",
                                                            "unet_config", "text_config")},
                           args.snapshot + ".tmp")
                os.replace(args.snapshot + ".tmp", args.snapshot)
            if step % 2000 == 0:
                torch.save({k: ck[k] for k in ("ema_text", "ema_unet", "step", "unet_config",
                                               "text_config")},
                           os.path.join(args.out, f"ema-{step:06d}.pt"))


if __name__ == "__main__":
    main()
