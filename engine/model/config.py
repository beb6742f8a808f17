"""Model configuration: one dataclass, saved beside checkpoints and into the ONNX metadata."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class ModelConfig:
    """Everything that fixes the network's shape and how the engine must feed it.

    ``target_object_px`` is the object size (sqrt(w*h), model pixels) the model was trained
    around; the engine resamples scenes so clicked objects land near it.
    """

    name: str = "deal-mnv2"
    version: str = "0.2.0"
    backbone: str = "mobilenet_v2"  # or "swin_t" (the paper's, random init), "swin_nano", "tiny" (tests)
    dim: int = 64
    heads: int = 4
    ffn: int = 256
    decoder_layers: int = 3
    points: int = 4
    stride: int = 8
    num_queries: int = 300
    min_queries: int = 10
    tile_size: int = 1024
    overlap: int = 128
    target_object_px: float = 28.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    bands: tuple[int, int, int] = (1, 2, 3)
    gsd_m: float = 0.3
    categories_seen: list[str] = field(default_factory=lambda: ["vehicle", "ship", "aircraft"])
    head_act: str = "relu"  # the prompt head's convs: ReLU fuses into onnxruntime's convs (SiLU: models before 0.2)
    dense_context: bool = True  # 3x3 separable convs after the correlation and before the heat map (off: the lighter head)
    cos_context: bool = False  # a 3x3 conv over the two cosine maps joins the correlation's fusion (for the lighter head)
    heat_context: bool = True  # with dense_context: the 3x3 separable conv before the heat map (off: only the correlation's)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "ModelConfig":
        data = json.loads(text)
        data.setdefault("head_act", "silu")  # configs written before the field existed had SiLU heads
        known = {k: v for k, v in data.items() if k in ModelConfig.__dataclass_fields__}
        for key in ("mean", "std", "bands"):
            if key in known:
                known[key] = tuple(known[key])
        return ModelConfig(**known)
