"""Prediction-guided cyclic point prompting (PG-CPP, DEAL V-B).

Prompts start as one random point inside one random box per category. After a prediction, the
worst-served ground-truth object (lowest score x IoU of its match) is re-introduced as an extra
prompt: per category in the intra-class cycle, once across all categories in the inter-class
cycle.
"""

from __future__ import annotations

import numpy as np


def point_in_box(box: np.ndarray, rng: np.random.Generator, spread: float = 0.5) -> np.ndarray:
    """A random point in the central ``spread`` fraction of an xyxy box (clicks land on the object)."""
    c = (box[:2] + box[2:]) / 2
    half = (box[2:] - box[:2]) / 2 * spread
    return c + rng.uniform(-1, 1, 2) * half


def initial_prompts(boxes: np.ndarray, cats: np.ndarray, rng: np.random.Generator,
                    multi_prob: float = 0.15, single_category_prob: float = 0.3) -> dict[str, list[tuple[np.ndarray, int]]]:
    """One prompt per category present: ``{category: [(point xy, gt index)]}``.

    With probability ``multi_prob`` a category gets 2-5 prompts (paper settings 2/4); with
    probability ``single_category_prob`` only one category is prompted (settings 3/4: the others
    must then stay silent).
    """
    names = sorted(set(cats.tolist()))
    if len(names) > 1 and rng.random() < single_category_prob:
        names = [names[rng.integers(len(names))]]
    prompts: dict[str, list[tuple[np.ndarray, int]]] = {}
    for name in names:
        idx = np.flatnonzero(cats == name)
        n = 1 if rng.random() >= multi_prob else int(rng.integers(2, 6))
        chosen = rng.choice(idx, size=min(n, len(idx)), replace=False)
        prompts[name] = [(point_in_box(boxes[i], rng), int(i)) for i in chosen]
    return prompts


def reprompt_worst(prompts: dict[str, list[tuple[np.ndarray, int]]], quality: dict[str, np.ndarray],
                   gt_index: dict[str, np.ndarray], boxes: np.ndarray, cycle: str, rng: np.random.Generator):
    """Add the worst-matched object's centre as a new prompt (``cycle`` is 'intra' or 'inter').

    ``quality[c]`` is per ground-truth object of category c (aligned with ``gt_index[c]``, the
    indices into ``boxes``); already prompted objects are never picked again.
    """
    new = {c: list(v) for c, v in prompts.items()}
    candidates = []
    for c, q in quality.items():
        used = {i for _, i in prompts[c]}
        free = [(float(q[j]), int(gi)) for j, gi in enumerate(gt_index[c]) if int(gi) not in used]
        if free:
            candidates.append((min(free), c))
    if not candidates:
        return new
    if cycle == "inter":
        candidates = [min(candidates)]
    for (_, gi), c in candidates:
        b = boxes[gi]
        new[c].append((point_in_box(b, rng, spread=0.2), gi))
    return new
