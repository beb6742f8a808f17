"""Point prompts: one click on one object, with the category the user gave it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PointPrompt:
    """A click in scene pixel coordinates.

    Attributes:
        col_px, row_px: position in the scene's pixel grid, (0, 0) = top-left corner of the
            top-left pixel, so the centre of pixel (i, j) is (i + 0.5, j + 0.5).
        category: any label the user typed ("vehicle", "ship", "wind turbine"...); prompts with
            the same category form one prompt set.
    """

    col_px: float
    row_px: float
    category: str


def group_by_category(prompts: "list[PointPrompt]") -> dict[str, list[PointPrompt]]:
    """Prompt sets in first-seen category order."""
    sets: dict[str, list[PointPrompt]] = {}
    for p in prompts:
        sets.setdefault(p.category, []).append(p)
    return sets
