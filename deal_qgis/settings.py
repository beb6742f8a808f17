"""The plugin's settings, kept in QgsSettings under ``deal/``."""

from __future__ import annotations

from dataclasses import dataclass, fields

from qgis.core import QgsSettings

from .translation import tr

DEVICES = ("auto", "cpu", "cuda")


def bracket_texts() -> tuple[str, str]:
    """Label and help of the scale-bracketing option (the panel's checkbox and the Processing parameter)."""
    return (tr("Also one step finer and coarser (slower)"),
            tr("Scale bracketing: each category is also detected at a scale one step below and above "
               "the one its clicks chose, and the results merged. About a point more accuracy for "
               "every kind of object, at about 3.5 times the encoding time."))


def self_prompt_texts() -> tuple[str, str]:
    """Label and help of the self-prompting option (the panel's checkbox and the Processing parameter)."""
    return (tr("Refine with the surest detections (slower)"),
            tr("Self-prompting: after a first pass, the objects the model is surest of are added to "
               "your clicks and the scene is searched again, at the scale they suggest (the raster is "
               "encoded again only if that scale differs). Helps when the clicked object is not typical "
               "of its kind: about a point more accuracy on the validation images, for a second search."))


def views_texts() -> tuple[str, str]:
    """Label and help of the test-time views option (the panel's checkbox and the Processing parameter)."""
    return (tr("Also search the scene rotated and mirrored (slower)"),
            tr("Test-time views: the scene is also searched mirrored left-right, top-bottom and both, "
               "and transposed each of those ways, and each object's boxes from the eight searches are "
               "averaged. Tighter boxes and fewer false detections (several points more accuracy on the "
               "validation images), at eight times the encoding time."))


_PREFIX = "deal/"


@dataclass
class DealSettings:
    """What the analyst chose for runs.

    Attributes:
        model_path: model folder (encoder.onnx + prompt_head.onnx); "" = the bundled model.
        tile_size, overlap: tile edge and overlap in model pixels; 0 = the model's own setting.
        score_threshold: detections below are dropped; 0 = the model's default threshold.
        device: "auto", "cpu" or "cuda".
        output_folder: where result files go; "" = temporary layers.
        bracket: scale bracketing: each category also detected one step below and above its
            scale (more accurate, ~3.5x the encoding).
        self_prompt: self-prompting: the surest detections of a first pass join the clicks for a
            second pass (engine.self_prompting).
        mirror_views: test-time views: the scene also searched mirrored and transposed, each
            object's boxes fused (engine.views; eight times the encoding).
    """

    model_path: str = ""
    tile_size: int = 0
    overlap: int = 0
    score_threshold: float = 0.0
    device: str = "auto"
    output_folder: str = ""
    bracket: bool = False
    self_prompt: bool = False
    mirror_views: bool = False

    @classmethod
    def load(cls) -> "DealSettings":
        stored = QgsSettings()
        values = {}
        for f in fields(cls):
            default = f.default
            raw = stored.value(_PREFIX + f.name, default)
            try:
                if isinstance(default, bool):  # QgsSettings may hand back "true" / "false" as text
                    values[f.name] = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1", "yes")
                else:
                    values[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                values[f.name] = default
        if values["device"] not in DEVICES:
            values["device"] = "auto"
        return cls(**values)

    def save(self) -> None:
        stored = QgsSettings()
        for f in fields(self):
            stored.setValue(_PREFIX + f.name, getattr(self, f.name))

    def session_key(self, source_key: str) -> tuple:
        """Settings that change the encoded features: a new engine Session is needed when they differ."""
        return (source_key, self.model_path, self.device, self.tile_size, self.overlap)
