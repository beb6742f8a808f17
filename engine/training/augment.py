"""Augmentations that suit overhead imagery: 90-degree rotations and flips, colour, blur, noise."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def rot90_boxes(boxes: np.ndarray, size: int, k: int) -> np.ndarray:
    """Boxes after ``np.rot90(image, k)`` of a square image of side ``size`` (counter-clockwise)."""
    b = boxes.copy()
    for _ in range(k % 4):
        x0, y0, x1, y1 = b.T
        b = np.stack([y0, size - x1, y1, size - x0], 1)
    return b


def augment(image: np.ndarray, boxes: np.ndarray, cats: np.ndarray, rng: np.random.Generator):
    """Random rotation by k*90 degrees, horizontal flip, colour jitter, blur and noise on a square crop."""
    size = image.shape[0]
    k = int(rng.integers(4))
    image = np.rot90(image, k)
    boxes = rot90_boxes(boxes, size, k)
    if rng.random() < 0.5:
        image = image[:, ::-1]
        boxes = np.stack([size - boxes[:, 2], boxes[:, 1], size - boxes[:, 0], boxes[:, 3]], 1)
    img = image.astype(np.float32)
    img = img * rng.uniform(0.75, 1.25) + rng.uniform(-20, 20)  # contrast, brightness
    grey = img.mean(2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(0.6, 1.4)  # saturation
    img = img * rng.uniform(0.9, 1.1, 3)[None, None]  # white balance
    if rng.random() < 0.2:
        img = gaussian_filter(img, sigma=(rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.2), 0))
    if rng.random() < 0.2:
        img = img + rng.normal(0, rng.uniform(2, 8), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), boxes.astype(np.float32), cats
