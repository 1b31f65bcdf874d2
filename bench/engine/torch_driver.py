"""Times the PyTorch reference sampler (models/story-world/sampler.py) for bench/engine.

Started by bench/engine/run.ts; never by tests. One JSON object per line on stdin, one reply
per line on stdout, so the TypeScript side can interleave its own runs with these and both
share the machine the same way:

    {"op": "plain" | "identity" | "read", "prompts": [...], "seeds": [...], "steps": 25,
     "guidance": 5.0, "rate": 0.5, "csa_seed": 7}          -> {"seconds": 1.23}
    {"op": "rss"}                                           -> {"max_rss_kb": 123456}

"identity" with "keep": true keeps the bank it writes; "read" reads the kept one (with csa_seed + 1, as the
engine does). Usage: torch_driver.py <checkpoint.pt> <threads>
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "story-world"))

import torch  # noqa: E402

import sampler as S  # noqa: E402


def main():
    ckpt, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set
    t0 = time.perf_counter()
    step = torch.load(ckpt, map_location="cpu").get("step")
    text, unet = S.load(ckpt)
    tokens_all = S.layer_tokens(unet)
    layers = [n for n in tokens_all if n.startswith("up_blocks.")]
    tokens = {n: tokens_all[n] for n in layers}
    bank = None
    reply({"ready": True, "step": step, "load_seconds": time.perf_counter() - t0, "layers": layers,
           "torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "quit":
            break
        if op == "rss":
            reply({"max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
            continue
        prompts, seeds, steps, guidance = req["prompts"], req["seeds"], req["steps"], req["guidance"]
        rates = {n: req.get("rate", 0.5) for n in set(tokens.values())}
        t = time.perf_counter()
        if op == "plain":
            S.sample(text, unet, prompts, seeds, steps, guidance)
        elif op == "identity":
            plan = S.CSAPlan.make(req["csa_seed"], steps, layers, tokens, rates, len(prompts))
            writer = S.StoryCSA("write", plan)
            S.sample(text, unet, prompts, seeds, steps, guidance, writer, layers)
            if req.get("keep"):
                bank = (writer.bank, req["csa_seed"])
        elif op == "read":
            if bank is None:
                reply({"error": "read before identity"})
                continue
            plan = S.CSAPlan.make(bank[1] + 1, steps, layers, tokens, rates, 0)
            S.sample(text, unet, prompts, seeds, steps, guidance, S.StoryCSA("read", plan, bank[0]), layers)
        else:
            reply({"error": f"unknown op {op}"})
            continue
        reply({"seconds": time.perf_counter() - t})


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
