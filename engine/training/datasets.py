"""Annotated images for training and evaluation: COCO, DOTA and YOLO readers, splits, pixels.

Every reader returns :class:`ImageRecord` lists with boxes in image pixels, xyxy, (0, 0) = the
top-left corner of the top-left pixel. Images stay where they are; only paths are kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DealError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SHARED_DATASETS = ("airbus-aircraft", "kit-cars", "drone-cars", "cats-drone-cars", "dota-harbor", "sen2ships")

# The project's class mapping (shared/data/README.md): source class -> category.
DEFAULT_CLASS_MAP = {
    "car": "vehicle", "truck": "vehicle", "bus": "vehicle", "minibus": "vehicle",
    "small-vehicle": "vehicle", "large-vehicle": "vehicle",
    "ship": "ship", "boat": "ship",
    "airplane": "aircraft", "truncated_airplane": "aircraft", "plane": "aircraft", "helicopter": "aircraft",
}

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_GEOTIFF_SUFFIXES = (".tif", ".tiff")

# Fixed validation groups (see split_by_group); datasets not named here stay in training.
_VAL_GROUPS = {
    "kit-cars": ("MOS74-93",),
    "drone-cars": ("DJI-00760",),
    "cats-drone-cars": ("1", "5"),
    "sen2ships": ("athens", "gdynia"),
}
_AIRBUS_VAL_GROUPS = 19
_MIN_VAL_SHIPS = 15


class DatasetError(DealError):
    """An annotation file or image folder is missing or cannot be read."""


@dataclass
class ImageRecord:
    """One annotated image.

    Attributes:
        path: image file.
        width, height: image size in pixels.
        group: source sequence / video / scene; near-duplicates share a group.
        dataset: name of the dataset the image belongs to.
        boxes_px: float32 ``(n, 4)`` xyxy in image pixels.
        categories: ``(n,)`` category names (str).
        difficult: bool ``(n,)`` (DOTA's difficult flag; False elsewhere).
    """

    path: str
    width: int
    height: int
    group: str
    dataset: str
    boxes_px: np.ndarray
    categories: np.ndarray
    difficult: np.ndarray

    def __len__(self) -> int:
        return int(self.boxes_px.shape[0])


def _record(path: Path, width: int, height: int, group: str, dataset: str,
            boxes: list, categories: list, difficult: list) -> ImageRecord:
    return ImageRecord(
        path=str(path), width=int(width), height=int(height), group=str(group), dataset=dataset,
        boxes_px=np.asarray(boxes, np.float32).reshape(-1, 4),
        categories=np.asarray(categories, dtype=str).reshape(-1),
        difficult=np.asarray(difficult, bool).reshape(-1),
    )


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip xyxy ``(n, 4)`` to the image; returns (clipped boxes, keep mask of boxes >= 1 px)."""
    boxes = boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    return boxes, keep


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding pixels."""
    try:
        if path.suffix.lower() in _GEOTIFF_SUFFIXES:
            import rasterio
            with rasterio.open(path) as ds:
                return ds.width, ds.height
        from PIL import Image
        with Image.open(path) as im:
            return im.size
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to the user
        raise DatasetError(f"Cannot read the image {path}: {exc}. Check the file is a complete image.") from exc


def _images_in(image_dir: Path) -> dict[str, Path]:
    """Image files of a folder by file stem."""
    if not image_dir.is_dir():
        raise DatasetError(f"Image folder {image_dir} does not exist.")
    return {p.stem: p for p in sorted(image_dir.iterdir()) if p.suffix.lower() in _IMAGE_SUFFIXES}


def load_coco(json_path: str | Path, images_dir: str | Path, dataset_name: str) -> list[ImageRecord]:
    """Read a COCO detection file; crowd annotations are skipped.

    Uses the image entry's ``group`` when present (the shared data's extension), else the
    file stem; keeps an annotation's ``difficult`` flag when present.
    """
    json_path, images_dir = Path(json_path), Path(images_dir)
    try:
        coco = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"Cannot read the COCO annotation file {json_path}: {exc}.") from exc
    names = {c["id"]: c["name"] for c in coco.get("categories", [])}
    by_image: dict[int, list[dict]] = {}
    for ann in coco.get("annotations", []):
        if not ann.get("iscrowd", 0):
            by_image.setdefault(ann["image_id"], []).append(ann)
    unknown = {a["category_id"] for anns in by_image.values() for a in anns} - set(names)
    if unknown:
        raise DatasetError(f"{json_path}: annotations use category ids {sorted(unknown)} "
                           "that 'categories' does not list.")
    records = []
    for img in coco.get("images", []):
        anns = by_image.get(img["id"], [])
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        path = images_dir / img["file_name"]
        records.append(_record(path, img["width"], img["height"], img.get("group", path.stem), dataset_name,
                               boxes, [names[a["category_id"]] for a in anns],
                               [bool(a.get("difficult", 0)) for a in anns]))
    return records


def _map_class(name: str, class_map: dict[str, str] | None) -> str | None:
    if class_map is None:
        return name
    return class_map.get(name, class_map.get(name.lower()))


def load_dota(label_dir: str | Path, image_dir: str | Path, dataset_name: str,
              class_map: dict[str, str] | None = None) -> list[ImageRecord]:
    """Read DOTA labelTxt files (``x1 y1 ... x4 y4 class [difficult]``, optional header lines).

    Each quadrilateral becomes its enclosing axis-aligned box, clipped to the image. With a
    ``class_map`` (e.g. :data:`DEFAULT_CLASS_MAP`), classes are renamed and those it lacks are
    dropped; without one the DOTA class names are kept. Images without a label file have no
    objects. ``group`` = the image's file stem.
    """
    label_dir = Path(label_dir)
    records = []
    for stem, path in _images_in(Path(image_dir)).items():
        width, height = _image_size(path)
        boxes, cats, difficult = [], [], []
        label = label_dir / f"{stem}.txt"
        lines = label.read_text().splitlines() if label.exists() else []
        for n, line in enumerate(lines, 1):
            parts = line.split()
            if not parts or parts[0].startswith(("imagesource:", "gsd:")):
                continue
            if len(parts) < 9:
                raise DatasetError(f"{label}, line {n}: expected 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]'.")
            category = _map_class(parts[8], class_map)
            if category is None:
                continue
            xy = np.asarray(parts[:8], np.float64).reshape(4, 2)
            boxes.append([*xy.min(axis=0), *xy.max(axis=0)])
            cats.append(category)
            difficult.append(len(parts) > 9 and parts[9] == "1")
        box_arr, keep = _clip_boxes(np.asarray(boxes, np.float64).reshape(-1, 4), width, height)
        records.append(_record(path, width, height, stem, dataset_name, box_arr[keep],
                               np.asarray(cats, dtype=str)[keep], np.asarray(difficult, bool)[keep]))
    return records


def load_yolo(label_dir: str | Path, image_dir: str | Path, names: list[str], dataset_name: str) -> list[ImageRecord]:
    """Read YOLO txt labels (``class cx cy w h``, normalised to the image size).

    ``names[class]`` is the category. Images without a label file have no objects.
    ``group`` = the image's file stem.
    """
    label_dir = Path(label_dir)
    records = []
    for stem, path in _images_in(Path(image_dir)).items():
        width, height = _image_size(path)
        label = label_dir / f"{stem}.txt"
        rows = [line.split() for line in (label.read_text().splitlines() if label.exists() else []) if line.strip()]
        if any(len(r) < 5 for r in rows):
            raise DatasetError(f"{label}: every line must read 'class cx cy w h'.")
        cls = [int(r[0]) for r in rows]
        if any(not 0 <= c < len(names) for c in cls):
            raise DatasetError(f"{label}: class index outside the {len(names)} names given.")
        cxcywh = np.asarray([r[1:5] for r in rows], np.float64).reshape(-1, 4) * [width, height, width, height]
        boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
        boxes, keep = _clip_boxes(boxes, width, height)
        cats = np.asarray([names[c] for c in cls], dtype=str)
        records.append(_record(path, width, height, stem, dataset_name, boxes[keep], cats[keep],
                               np.zeros(int(keep.sum()), bool)))
    return records


def load_shared(root: str | Path = SHARED_DATA, names: list[str] | None = None) -> list[ImageRecord]:
    """The project's annotated datasets under ``root`` (default ``../shared/data``), read in place."""
    root = Path(root)
    records = []
    for name in names or SHARED_DATASETS:
        folder = root / name
        if not (folder / "annotations.json").exists():
            raise DatasetError(f"Dataset {name!r} not found: {folder / 'annotations.json'} is missing.")
        records.extend(load_coco(folder / "annotations.json", folder / "images", name))
    return records


def _groups(records: list[ImageRecord], dataset: str) -> list[str]:
    return sorted({r.group for r in records if r.dataset == dataset})


def _val_groups(records: list[ImageRecord]) -> set[tuple[str, str]]:
    """(dataset, group) pairs of the fixed validation split."""
    val = {(d, g) for d, groups in _VAL_GROUPS.items() if d != "sen2ships" for g in groups}
    airbus = sorted(_groups(records, "airbus-aircraft"), key=lambda g: hashlib.sha1(g.encode()).hexdigest())
    val |= {("airbus-aircraft", g) for g in airbus[:_AIRBUS_VAL_GROUPS]}
    # A city with too few ships gives a noisy AP: replace it by the next city (sorted) with enough.
    ships = {g: sum(int(np.sum(r.categories == "ship")) for r in records if r.dataset == "sen2ships" and r.group == g)
             for g in _groups(records, "sen2ships")}
    chosen: list[str] = []
    for city in _VAL_GROUPS["sen2ships"]:
        candidates = [city] + [g for g in sorted(ships) if g > city]
        pick = next((g for g in candidates if ships.get(g, 0) >= _MIN_VAL_SHIPS and g not in chosen), None)
        if pick is not None:
            chosen.append(pick)
    val |= {("sen2ships", g) for g in chosen}
    return val


def split_by_group(records: list[ImageRecord]) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """The project's fixed (train, val) split; every group lies wholly on one side.

    Validation: kit-cars MOS74-93; drone-cars DJI-00760; cats-drone-cars videos 1 and 5;
    airbus-aircraft the 19 groups with the smallest sha1(group); sen2ships athens and gdynia
    (a city with fewer than 15 ships is replaced by the next city in sorted order with more).
    dota-harbor and any other dataset stay in training.
    """
    val_groups = _val_groups(records)
    train = [r for r in records if (r.dataset, r.group) not in val_groups]
    val = [r for r in records if (r.dataset, r.group) in val_groups]
    return train, val


def leave_one_source_out(records: list[ImageRecord], source: str) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """(train, val) with every image of dataset ``source`` in val and the rest in train."""
    val = [r for r in records if r.dataset == source]
    if not val:
        known = ", ".join(sorted({r.dataset for r in records}))
        raise DatasetError(f"No images of dataset {source!r}; known datasets: {known}.")
    return [r for r in records if r.dataset != source], val


def read_image(record: ImageRecord) -> np.ndarray:
    """The record's pixels as uint8 ``(H, W, 3)`` RGB.

    GeoTIFFs are read with rasterio, bands 1-3 as stored (they must be 8-bit); other formats
    with PIL (grey and palette images are expanded to RGB, alpha dropped).
    """
    path = Path(record.path)
    try:
        if path.suffix.lower() in _GEOTIFF_SUFFIXES:
            import rasterio
            with rasterio.open(path) as ds:
                if ds.dtypes[0] != "uint8":
                    raise DatasetError(f"{path} holds {ds.dtypes[0]} pixels; training reads 8-bit images only. "
                                       "Stretch it to uint8 first.")
                bands = ds.read([min(b, ds.count) for b in (1, 2, 3)])
            return np.ascontiguousarray(bands.transpose(1, 2, 0))
        from PIL import Image
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to the user
        raise DatasetError(f"Cannot read the image {path}: {exc}. Check the file is a complete image.") from exc
