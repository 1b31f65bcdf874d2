"""Records the model card's stories (models/story-world/evaluate.py) as JSON for the TypeScript
consistency bench and its test, so they need neither Python nor a port of numpy's PCG64.

    /usr/bin/python3 bench/consistency/make_specs.py

Writes bench/consistency/model-card-stories.json: evaluate.py's argument defaults (read from its own
argparse), its frames per story, and story_specs(stories, seed, named) for both spec sets the
table uses (seed 2024 with no named attributes; seed 2026 with two). Each frame is
[prompt, seed, asked], exactly as story_specs returns it. Re-run it when evaluate.py changes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "story-world"))

import evaluate  # noqa: E402
import world  # noqa: E402


class _Defaults(Exception):
    pass


def evaluate_defaults() -> dict:
    """evaluate.main()'s argparse defaults, without running it: parse_args is intercepted."""
    captured = {}
    original = argparse.ArgumentParser.parse_args

    def capture(self, args=None, namespace=None):
        captured.update(vars(self.parse_known_args(["--ckpt", "-", "--judge", "-"])[0]))
        raise _Defaults()

    argparse.ArgumentParser.parse_args = capture
    try:
        evaluate.main()
    except _Defaults:
        pass
    finally:
        argparse.ArgumentParser.parse_args = original
    return {k: v for k, v in captured.items() if k not in ("ckpt", "judge", "json", "sheet")}


def main():
    defaults = evaluate_defaults()
    stories = defaults["stories"]
    sets = {}
    # evaluate.main: named = 2 for the "named-*" rows, 0 otherwise; spec seed 2024 + named.
    for named in (0, 2):
        specs = evaluate.story_specs(stories, 2024 + named, named)
        sets[str(named)] = [[[prompt, seed, {k: str(v) for k, v in asked.items()}] for prompt, seed, asked in story]
                            for story in specs]
    out = {
        "source": "models/story-world/evaluate.py story_specs (bench/consistency/make_specs.py)",
        "defaults": defaults,
        "frames_per_story": evaluate.FRAMES,
        "spec_seed_base": 2024,
        "named_attributes": 2,
        "csa_seed_base": 77,
        "identity_keys": world.IDENTITY_KEYS,
        "sets": sets,
    }
    with open(os.path.join(HERE, "model-card-stories.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
