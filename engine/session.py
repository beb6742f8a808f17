"""A scene being worked on: encode once, then detect with any clicks, many times.

    session = Session(source, load_model())
    session.encode()                                  # optional; the expensive part
    result = session.detect([PointPrompt(812.5, 440.0, "vehicle")])
    result = session.detect(more_prompts)             # reuses the encoded tiles

Scale-aware prompting: each category is detected at the resampling factor that brings its
clicked objects to the size the model detects best (``Session.object_px``: a little above the
``target_object_px`` it was trained at, see ``OBJECT_ZOOM``). To find it, the
engine probes a small window (256 model pixels) around the click at factors 1/8 .. 4 in steps of
sqrt(2) and keeps the factor where the model is most sure an object sits at the click (the
density D there) and its size map says the object has that size. Then the category's
population corrects the clicked instance: if the objects the probe finds around the click (the
prompt head's detections in the probe window) are typically smaller or larger, the factor moves
by up to two sqrt(2) steps towards them, probing again, at most three times. A click on a bus
in a car park thus brings the cars, not the bus, to that size. Large objects (aircraft) fill the
window: when it holds too few and they are larger than the working size, their population is
read at a smaller factor, through a wider window (``population_sizes``).
Scale bracketing (``Session(..., bracket=True)``, ``--bracket``; off by default): each category
is also detected one sqrt(2) step below and above its factor, those detections at half their
score, and the detections merged per category (the surest box per object, as across tiles); the
density map and counts stay those of the category's own factor. One factor is rarely right for
every object of a scene; on the validation split the bracket raised AP50 for every category by
about a point, at about 3.5 times the encoding (model card).
Self-prompting (``Session(..., self_prompts=K)``, ``--self-prompt``; off by default): after a first
pass, each category's K surest detections join its clicks as if clicked and the scene is searched
again, at the factor those points give (``engine.self_prompting``).
Test-time views (``Session(..., views=8)``, ``--views``; off by default): the scene is also searched
mirrored left-right, top-bottom and both, then transposed (the eight rotations and reflections of
the square), and each object's boxes from the views are fused
(``engine.views``); each view encodes its own tiles, so the first pass costs ``views`` times as much.
Probes run the encoder on those small windows only, never on the scene's tiles; factors are
powers of sqrt(2), so clicks on similar objects share encoded tiles. ``Session(..., scale=F)``
fixes the factor (no probes).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterator, NamedTuple

import numpy as np

from .density_stitch import DensityAccumulator
from .errors import (CancelledError, InvalidRasterError, NoPromptsError, PromptError, PromptOnNodataError,
                     PromptOutsideRasterError, SettingsError)
from .exemplars import ExemplarSet, bilinear_sample
from .feature_cache import FeatureCache, cache_key
from .georef import GeoReference
from .merge import TileDetections, merge_tile_detections
from .prompts import PointPrompt, group_by_category
from .raster_source import RasterSource, Window
from .results import DetectionResult
from .runtime import DealModel, HeadOutput, TileFeatures
from .self_prompting import MAX_SELF_PROMPTS, SELF_PROMPT_MIN_SCORE, surest_detections
from .tiling import Tile, TileGrid
from .views import VIEW_THRESHOLD_FACTOR, VIEWS, ViewSource, View, boxes_to_scene, check_views, fuse_views, prompts_to_view

_COUNTERS = ("encoder_calls", "probe_calls", "cache_hits", "seconds_encode", "seconds_head")
Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

PROBE_SCALES = tuple(2 ** (k / 2) for k in range(-6, 5))  # 1/8 .. 4 in steps of sqrt(2)
PROBE_PX = 256
PROBE_CLICKS = 3  # clicks of a category probed (the scale is shared by the category)
SIZE_WEIGHT = 0.5  # weight of |log(predicted size / object_px)| against the density at the click
OBJECT_ZOOM = 2 ** 0.25  # objects are detected best a little above the training size (half a sqrt(2) step; model card)
# a probe's detections this sure count as the category's population: a rule of the scale search, tuned with the
# 0.2 model, not the model's own score threshold (taking that, 0.5 for a recalibrated head, cost its ships)
POPULATION_SCORE = 0.3
POPULATION_MIN = 4  # fewer found around the clicks: the clicked objects alone set the scale
POPULATION_STEP = 2  # most sqrt(2) steps one population correction moves the factor
POPULATION_ROUNDS = 3  # corrections at most (each probes the clicks again at the new factor)
POPULATION_WIDER = 4  # sqrt(2) steps down the population may be read from when the probe window holds too few
BRACKET_STEPS = (-1, 1)  # sqrt(2) steps around a category's factor it is also detected at
BRACKET_WEIGHT = 0.5  # score factor of detections at the neighbouring factors (see merge_bracket)
BRACKET_IOU = 0.5  # detections of one object at two factors (IoU, or intersection over the
BRACKET_IOS = 0.8  # smaller box: a part inside the whole): the surer one stays, as in the tile merge
MAX_DENSITY_CELLS = 16_000_000  # per band: bounds the density raster's memory on huge scenes
HEAD_CACHE_ENTRIES = 512  # per-tile, per-category head outputs kept (~135 kB each at 1024 px tiles)


class Session:
    """One raster and one model, with the encoded tiles kept in a feature cache.

    Args:
        source: the scene (any :class:`~engine.raster_source.RasterSource`).
        model: a loaded :class:`~engine.runtime.DealModel`.
        tile_size, overlap: in model pixels; default from the model's metadata.
        cache: where encoded tiles live (bounded memory, spills to disk); a new one by default.
        scale: ``"auto"`` (from the clicked objects' size) or a fixed resampling factor.
        object_px: the size (sqrt(w*h), model px) the scale probe brings objects to; default
            the model's training size times ``OBJECT_ZOOM``.
        bracket: with the automatic scale, also detect each category one sqrt(2) step below and
            above its factor and merge (see module docstring); ~3.5x the encoding.
        self_prompts: in :meth:`detect`, add each category's this many surest detections of a
            first pass to its clicks and detect again (``engine.self_prompting``); 0 = one pass.
        views: in :meth:`detect`, search the scene as it is and in ``views - 1`` mirrored and
            transposed views and fuse each object's boxes (``engine.views``); 1 = the scene alone, at most 8.
    """

    def __init__(self, source: RasterSource, model: DealModel, tile_size: int | None = None, overlap: int | None = None,
                 cache: FeatureCache | None = None, scale: float | str = "auto", object_px: float | None = None,
                 bracket: bool = False, self_prompts: int = 0, views: int = 1):
        md = model.metadata
        self.source = source
        self.model = model
        self.tile_size = int(tile_size or md.tile_size)
        self.overlap = int(md.overlap if overlap is None else overlap)
        multiple = md.tile_multiple
        if self.tile_size % multiple or self.tile_size < max(192, multiple):
            raise SettingsError(f"tile size must be a multiple of {multiple} and at least {max(192, multiple)} pixels "
                                f"for this model, got {self.tile_size}")
        if not 0 <= self.overlap < self.tile_size // 2:
            raise SettingsError(f"overlap must be between 0 and half the tile size ({self.tile_size // 2}), got {self.overlap}")
        if source.width <= 0 or source.height <= 0:
            raise InvalidRasterError(f"the raster is empty ({source.width} x {source.height} pixels)")
        self.cache = cache if cache is not None else FeatureCache()
        self.fixed_scale = None if scale == "auto" else float(scale)
        self.bracket = bool(bracket)  # may be changed between runs; used only with the automatic scale
        if not 0 <= int(self_prompts) <= MAX_SELF_PROMPTS:
            raise SettingsError(f"self-prompting adds 0 to {MAX_SELF_PROMPTS} detections per category, got {self_prompts}")
        self.self_prompts = int(self_prompts)  # may be changed between runs
        self.views = check_views(views)  # may be changed between runs
        self._views: dict[tuple[bool, bool], Session] = {}
        self.object_px = float(md.target_object_px * OBJECT_ZOOM if object_px is None else object_px)
        if not 4.0 <= self.object_px <= self.tile_size / 4:
            raise SettingsError(f"object size must be between 4 and {self.tile_size // 4} model pixels "
                                f"(a quarter of the tile), got {self.object_px:g}")
        self.georef = source.georef or GeoReference.identity()
        self.encoder_calls = 0
        self.probe_calls = 0
        self._probes: dict[tuple[float, float, float], Probe] = {}
        self._head_cache: OrderedDict[tuple[str, str], HeadOutput] = OrderedDict()
        self.cache_hits = 0
        self.seconds_encode = 0.0
        self.seconds_head = 0.0
        self._grids: dict[float, TileGrid] = {}

    # ----- encoding -------------------------------------------------------------------------
    def grid(self, scale: float) -> TileGrid:
        """The tiling used at a resampling factor (tiles of ``tile_size`` model pixels)."""
        if scale not in self._grids:
            tile_scene = max(32, round(self.tile_size / scale))
            overlap_scene = min(round(self.overlap / scale), tile_scene // 2 - 1)
            self._grids[scale] = TileGrid(self.source.width, self.source.height, tile_scene, overlap_scene)
        return self._grids[scale]

    def _model_scale(self, tile: Tile) -> float:
        """Model pixels per scene pixel for a tile (exact, after rounding the tile to whole pixels)."""
        return self.tile_size / tile.window.width

    def tile_features(self, tile: Tile, scale: float, image_valid: tuple[np.ndarray, np.ndarray] | None = None,
                      ) -> dict[str, np.ndarray] | None:
        """Encoder outputs for a tile (from the cache when there), or None for an all-nodata tile.

        ``image_valid``: the tile's pixels when already read (by the read-ahead of :meth:`features`).
        """
        key = self._tile_key(tile, scale)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache_hits += 1
            return None if "empty" in hit else hit
        t0 = time.perf_counter()
        image, valid = image_valid if image_valid is not None else self._read_tile(tile)
        if not valid.any():
            self.cache.put(key, {"empty": np.zeros(1, np.uint8)})
            return None
        feats = self.model.encode(image).as_dict()
        stride = self.model.metadata.stride
        h8, w8 = feats["p8"].shape[-2:]
        if valid.all():  # the common case: no nodata in the tile
            feats["valid8"] = np.ones((h8, w8), np.float32)
        else:
            feats["valid8"] = valid[: h8 * stride, : w8 * stride].reshape(h8, stride, w8, stride).mean(axis=(1, 3)).astype(np.float32)
        self.cache.put(key, feats)
        self.encoder_calls += 1
        self.seconds_encode += time.perf_counter() - t0
        return feats

    def _tile_key(self, tile: Tile, scale: float) -> str:
        """Identity of a tile's encoder outputs: raster fingerprint + window + scale + model."""
        return cache_key(self.source.fingerprint, tile.window, scale, self.model.model_id)

    def _uncached(self, tiles: list[Tile], scale: float) -> list[int]:
        """Indices of the tiles whose encoder outputs are not in the cache yet."""
        return [i for i, t in enumerate(tiles) if self._tile_key(t, scale) not in self.cache]

    def _read_tile(self, tile: Tile) -> tuple[np.ndarray, np.ndarray]:
        return self.source.read(tile.window, out_shape=(self.tile_size, self.tile_size))

    def features(self, grid: TileGrid, scale: float) -> Iterator[tuple[Tile, dict[str, np.ndarray] | None]]:
        """``(tile, features)`` over ``grid`` in order, as :meth:`tile_features` gives them, with the
        next tile that needs encoding read on a helper thread while the current one is encoded
        (GDAL decompression and the encoder overlap instead of adding up)."""
        tiles = list(grid)
        todo = self._uncached(tiles, scale)
        if len(todo) < 2:
            for tile in tiles:
                yield tile, self.tile_features(tile, scale)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="deal-read") as pool:
            reads = {todo[0]: pool.submit(self._read_tile, tiles[todo[0]])}
            upcoming = iter(todo[1:])
            try:
                for i, tile in enumerate(tiles):
                    pending = reads.pop(i, None)
                    if pending is None:
                        yield tile, self.tile_features(tile, scale)
                        continue
                    nxt = next(upcoming, None)
                    if nxt is not None:
                        reads[nxt] = pool.submit(self._read_tile, tiles[nxt])
                    yield tile, self.tile_features(tile, scale, pending.result())
            finally:
                for future in reads.values():
                    future.cancel()

    def encode(self, scale: float = 1.0, progress: Progress | None = None, cancel: Cancel | None = None) -> int:
        """Encode every tile at ``scale`` (already cached tiles are skipped); returns the tile count."""
        grid = self.grid(scale)
        _check(cancel)
        for i, _ in enumerate(self.features(grid, scale)):
            _check(cancel)
            if progress:
                progress((i + 1) / len(grid), f"encoded tile {i + 1}/{len(grid)}")
        if progress:
            progress(1.0, "encoded")
        return len(grid)

    # ----- prompts -> exemplars ------------------------------------------------------------
    def _validate(self, prompts: list[PointPrompt]) -> None:
        if not prompts:
            raise NoPromptsError("no prompts: click (or give) at least one point on an object to say what to detect")
        for p in prompts:
            if not p.category or not str(p.category).strip():
                raise PromptError(f"the prompt at pixel ({p.col_px:.1f}, {p.row_px:.1f}) has no category name")
            if not (0 <= p.col_px < self.source.width and 0 <= p.row_px < self.source.height):
                raise PromptOutsideRasterError(
                    f"the '{p.category}' prompt at pixel ({p.col_px:.1f}, {p.row_px:.1f}) is outside the raster "
                    f"(0..{self.source.width} x 0..{self.source.height} pixels); click on the image itself")
            _, valid = self.source.read(Window(int(p.col_px), int(p.row_px), 1, 1))
            if not valid[0, 0]:
                raise PromptOnNodataError(
                    f"the '{p.category}' prompt at pixel ({p.col_px:.1f}, {p.row_px:.1f}) falls on a nodata pixel; "
                    "click on an object inside the image's valid area")

    def _embed(self, prompt: PointPrompt, scale: float) -> tuple[np.ndarray, float]:
        """``(embedding (C,), object size in scene px)`` of one click at one scale."""
        tile = self.grid(scale).tile_for_point(prompt.col_px, prompt.row_px)
        feats = self.tile_features(tile, scale)
        if feats is None:
            raise PromptOnNodataError(f"the '{prompt.category}' prompt at pixel ({prompt.col_px:.1f}, {prompt.row_px:.1f}) "
                                      "lies in a tile without valid data")
        s = self._model_scale(tile)
        xy = np.array([[(prompt.col_px - tile.window.col_off) * s, (prompt.row_px - tile.window.row_off) * s]])
        stride = self.model.metadata.stride
        emb = bilinear_sample(feats["p8"][0], xy, stride)[0]
        log_wh = bilinear_sample(feats["size"][0], xy, stride)[0]
        size_scene = float(np.exp(log_wh.mean())) / s
        return emb, size_scene

    def _probe(self, prompt: PointPrompt, scale: float) -> Probe:
        """What the model sees in a small window around the click at one factor (see :class:`Probe`)."""
        key = (round(prompt.col_px, 1), round(prompt.row_px, 1), scale)
        if key not in self._probes:
            span = max(1, round(PROBE_PX / scale))
            window = Window(int(round(prompt.col_px - span / 2)), int(round(prompt.row_px - span / 2)), span, span)
            image, _ = self.source.read(window, out_shape=(PROBE_PX, PROBE_PX))
            feats = self.model.encode(image)
            self.probe_calls += 1
            s = PROBE_PX / span
            xy = np.array([[(prompt.col_px - window.col_off) * s, (prompt.row_px - window.row_off) * s]])
            stride = self.model.metadata.stride
            size = float(np.exp(bilinear_sample(feats.size[0], xy, stride)[0].mean()))
            exemplar = bilinear_sample(feats.p8[0], xy, stride)[None]
            out = self.model.predict(feats, exemplar, np.ones((1, 1), np.float32))
            density = float(bilinear_sample(out.density[0][None], xy, stride)[0, 0])
            sure = out.valid[0] & (out.scores[0] >= POPULATION_SCORE)
            self._probes[key] = Probe(density, size, box_sizes(out.boxes[0][sure]))
        return self._probes[key]

    def estimate_scale(self, prompts: list[PointPrompt], probe_clicks: int = PROBE_CLICKS) -> tuple[float, float]:
        """``(resampling factor, clicked object size in scene px)`` for one category's clicks (see module
        docstring), from its first ``probe_clicks`` clicks."""
        target = self.object_px
        if self.fixed_scale is not None:
            sizes = [self._embed(p, self.fixed_scale)[1] for p in prompts]
            return self.fixed_scale, float(np.median(sizes))
        probed = prompts[:probe_clicks]

        def score(scale: float) -> float:
            values = [self._probe(p, scale) for p in probed]
            return float(np.mean([v.density - SIZE_WEIGHT * abs(np.log(max(v.size, 1e-3) / target)) for v in values]))

        best = max(PROBE_SCALES, key=score)
        size_scene = float(np.median([self._probe(p, best).size for p in probed])) / best
        return self._population_scale(probed, best), size_scene

    def _population_scale(self, probed: list[PointPrompt], scale: float) -> float:
        """The factor moved towards the typical size of the objects found around the clicks."""
        index = PROBE_SCALES.index(scale)
        visited = {index}
        for _ in range(POPULATION_ROUNDS):
            step = population_step(self._population(probed, index), self.object_px)
            moved = min(max(index + step, 0), len(PROBE_SCALES) - 1)
            if moved in visited:  # settled, or it would go back and forth: stay
                break
            index = moved
            visited.add(index)
        return PROBE_SCALES[index]

    def _population(self, probed: list[PointPrompt], index: int) -> np.ndarray:
        """Sizes (model px at ``PROBE_SCALES[index]``) of the objects found around the clicks (see :func:`population_sizes`)."""
        return population_sizes(lambda j: np.concatenate([self._probe(p, PROBE_SCALES[j]).found_px for p in probed]),
                                index, self.object_px)

    def exemplars(self, prompts: list[PointPrompt], progress: Progress | None = None, cancel: Cancel | None = None,
                  probe_clicks: int = PROBE_CLICKS) -> ExemplarSet:
        """Embeddings of the clicks, per category, at each category's scale (encodes the clicked tiles);
        the scale probe reads each category's first ``probe_clicks`` clicks."""
        self._validate(prompts)
        groups = group_by_category(prompts)
        emb, scales, sizes = {}, {}, {}
        for name, group in groups.items():
            _check(cancel)
            if progress:
                progress(0.0, f"reading the '{name}' clicks")
            scale, size = self.estimate_scale(group, probe_clicks)
            emb[name] = np.stack([self._embed(p, scale)[0] for p in group])
            scales[name], sizes[name] = scale, size
        bracket = []
        for step in BRACKET_STEPS if self.bracket and self.fixed_scale is None else ():
            emb_b, scales_b = {}, {}
            for name, group in groups.items():
                index = PROBE_SCALES.index(scales[name]) + step
                if 0 <= index < len(PROBE_SCALES):
                    _check(cancel)
                    scales_b[name] = PROBE_SCALES[index]
                    emb_b[name] = np.stack([self._embed(p, scales_b[name])[0] for p in group])
            if emb_b:
                bracket.append(ExemplarSet(emb_b, scales_b, self.model.model_id, {n: sizes[n] for n in emb_b}))
        return ExemplarSet(emb, scales, self.model.model_id, sizes, tuple(bracket))

    # ----- detection -----------------------------------------------------------------------
    def detect(self, prompts: list[PointPrompt], score_threshold: float | None = None,
               progress: Progress | None = None, cancel: Cancel | None = None) -> DetectionResult:
        """Find every object like the clicked ones, scene-wide (see module docstring)."""
        if self.views > 1:
            return self._detect_views(prompts, score_threshold, progress, cancel)
        return self._detect_one_view(prompts, score_threshold, progress, cancel)

    def _detect_one_view(self, prompts: list[PointPrompt], score_threshold: float | None,
                         progress: Progress | None, cancel: Cancel | None) -> DetectionResult:
        t0, calls0, hits0, enc0, head0 = time.perf_counter(), self.encoder_calls, self.cache_hits, self.seconds_encode, self.seconds_head
        exemplars = self.exemplars(prompts, progress, cancel)
        if self.self_prompts:
            result = self._detect_self_prompted(prompts, exemplars, score_threshold, progress, cancel)
        else:
            result = self._with_exemplars(exemplars, score_threshold, progress, cancel)
        result.stats.update(self._stats_since(t0, calls0, hits0, enc0, head0, result.stats["tiles"]))  # clicked tiles included
        return result

    def _detect_views(self, prompts: list[PointPrompt], score_threshold: float | None,
                      progress: Progress | None, cancel: Cancel | None) -> DetectionResult:
        """:meth:`detect` over the scene and its other views, each view clicked where the clicks lie in
        it. The scene itself (``VIEWS[0]``) runs first, so bad clicks are refused as the user gave them."""
        w, h = self.source.width, self.source.height
        return self._over_views(lambda session, view, threshold, part: session._detect_one_view(
            prompts_to_view(prompts, view, w, h), threshold, part, cancel), score_threshold, progress)

    def _over_views(self, run: Callable[["Session", View, float, Progress | None], DetectionResult],
                    score_threshold: float | None, progress: Progress | None) -> DetectionResult:
        """``run(session, view, threshold, progress)`` on this session and on the sessions of its
        other views (``engine.views``), each keeping detections from ``VIEW_THRESHOLD_FACTOR``
        of the threshold (by default the model's for views, ``ModelMetadata.threshold``); their boxes
        mapped back to the scene, fused (:func:`~engine.views.fuse_views`) and kept from the threshold. Density, estimated counts
        and scales are this view's; ``stats`` adds up the views' work, as do this session's counters."""
        threshold = self.model.metadata.threshold(self.views) if score_threshold is None else float(score_threshold)
        w, h = self.source.width, self.source.height
        results = []
        for i, view in enumerate(VIEWS[: self.views]):
            session = self if i == 0 else self._view_session(view)
            before = session._counters()
            result = run(session, view, threshold * VIEW_THRESHOLD_FACTOR, _sub_progress(progress, i / self.views, (i + 1) / self.views))
            if session is not self:
                for name, start, end in zip(_COUNTERS, before, session._counters()):
                    setattr(self, name, getattr(self, name) + end - start)
            result.boxes_px = boxes_to_scene(result.boxes_px, view, w, h)
            results.append(result)
        boxes, scores, cats = fuse_views([r.boxes_px for r in results], [r.scores for r in results],
                                         [r.categories for r in results])
        keep = scores >= threshold
        main = results[0]
        stats = {k: sum(r.stats[k] for r in results) for k, v in main.stats.items() if isinstance(v, (int, float))}
        stats.update({k: v for k, v in main.stats.items() if not isinstance(v, (int, float))})
        stats.update(views=self.views, encoder_calls_total=self.encoder_calls, probe_calls_total=self.probe_calls)
        return DetectionResult(boxes_px=boxes[keep], scores=scores[keep], categories=cats[keep],
                               category_names=list(main.category_names), georef=self.georef, density=main.density,
                               estimated_counts=dict(main.estimated_counts), scales=dict(main.scales), stats=stats)

    def _counters(self) -> tuple:
        return tuple(getattr(self, name) for name in _COUNTERS)

    def _view_session(self, view: View) -> "Session":
        """The session of another view (kept: its tiles and probes serve the next clicks too),
        sharing this one's feature cache and settings."""
        if view not in self._views:
            self._views[view] = Session(ViewSource(self.source, view), self.model, self.tile_size, self.overlap,
                                       self.cache, "auto" if self.fixed_scale is None else self.fixed_scale, self.object_px)
        session = self._views[view]
        session.bracket, session.self_prompts = self.bracket, self.self_prompts  # settings a run may have changed
        return session

    def _detect_self_prompted(self, prompts: list[PointPrompt], exemplars: ExemplarSet, score_threshold: float | None,
                              progress: Progress | None, cancel: Cancel | None) -> DetectionResult:
        """Two passes: the clicks alone, then the clicks followed by each category's ``self_prompts``
        surest detections (``engine.self_prompting``) as if clicked too: the category's factor is
        estimated again, the probe reading up to ``PROBE_CLICKS + self_prompts`` points (with one
        click: it and every added one), and every point's embedding joins the prompt set. The
        second pass is the result; it encodes the scene again only where the factor moved."""
        threshold = self.model.metadata.score_threshold if score_threshold is None else float(score_threshold)
        first = self._with_exemplars(exemplars, min(threshold, SELF_PROMPT_MIN_SCORE), _sub_progress(progress, 0.0, 0.5), cancel)
        extra = surest_detections(first.boxes_px, first.scores, first.categories, prompts, self.self_prompts)
        grown = self.exemplars(list(prompts) + extra, None, cancel, PROBE_CLICKS + self.self_prompts) if extra else exemplars
        result = self._with_exemplars(grown, threshold, _sub_progress(progress, 0.5, 1.0), cancel)
        added = group_by_category(extra)
        result.stats["self_prompts"] = {name: len(added.get(name, ())) for name in exemplars.categories}
        return result

    def _stats_since(self, t0: float, calls0: int, hits0: int, enc0: float, head0: float, tiles: int) -> dict:
        """Counters since a starting point; ``seconds_encode`` includes waiting for tile reads,
        ``seconds_head`` is the prompt head alone (summed over calls, which run side by side in
        a re-prompt), ``seconds_detect`` everything but encoding."""
        stats = {"encoder_calls": self.encoder_calls - calls0, "encoder_calls_total": self.encoder_calls,
                 "probe_calls_total": self.probe_calls,
                 "cache_hits": self.cache_hits - hits0, "tiles": tiles,
                 "seconds_encode": self.seconds_encode - enc0, "seconds_head": self.seconds_head - head0,
                 "seconds_total": time.perf_counter() - t0}
        stats["seconds_detect"] = stats["seconds_total"] - stats["seconds_encode"]
        return stats

    def detect_with_exemplars(self, exemplars: ExemplarSet, score_threshold: float | None = None,
                              progress: Progress | None = None, cancel: Cancel | None = None) -> DetectionResult:
        """Detection with exemplar embeddings taken earlier (possibly from another scene); with
        a bracket (``exemplars.bracket``) each category is also detected at the neighbouring
        factors and the detections merged: one box per object, the surest; the density map and
        the estimated counts are those of each category's own factor. With ``views`` > 1 the same
        exemplars, at the same factors, search the other views too (objects lie every which way,
        so an exemplar suits a mirrored or transposed scene as well) and the views' boxes are fused."""
        if self.views > 1:
            return self._over_views(lambda session, _view, threshold, part: session._with_exemplars(exemplars, threshold, part, cancel),
                                    score_threshold, progress)
        return self._with_exemplars(exemplars, score_threshold, progress, cancel)

    def _with_exemplars(self, exemplars: ExemplarSet, score_threshold: float | None = None,
                        progress: Progress | None = None, cancel: Cancel | None = None) -> DetectionResult:
        """:meth:`detect_with_exemplars` on this view alone."""
        threshold = self.model.metadata.score_threshold if score_threshold is None else float(score_threshold)
        sets = [exemplars, *exemplars.bracket]
        if len(sets) == 1:
            return self._detect_at(exemplars, threshold, progress, cancel)
        t0, calls0, hits0, enc0, head0 = time.perf_counter(), self.encoder_calls, self.cache_hits, self.seconds_encode, self.seconds_head
        # the other factors' detections count BRACKET_WEIGHT of their score: they must score
        # threshold / BRACKET_WEIGHT to reach the threshold once merged
        results = [self._detect_at(one, threshold / (1.0 if i == 0 else BRACKET_WEIGHT),
                                   _sub_progress(progress, i / len(sets), (i + 1) / len(sets)), cancel)
                   for i, one in enumerate(sets)]
        merged = merge_bracket(results)
        merged.stats = {**self._stats_since(t0, calls0, hits0, enc0, head0, sum(r.stats["tiles"] for r in results)),
                        "bracket_scales": merged.stats["bracket_scales"]}
        return merged

    def _detect_at(self, exemplars: ExemplarSet, threshold: float,
                   progress: Progress | None = None, cancel: Cancel | None = None) -> DetectionResult:
        """Every category of ``exemplars`` detected at its one factor, detections scoring at least ``threshold``."""
        if exemplars.model_id != self.model.model_id:
            raise PromptError(f"these exemplars were made with model {exemplars.model_id}, not {self.model.model_id}; "
                              "click again with the current model")
        if not exemplars.categories:
            raise NoPromptsError("the exemplar set is empty: click at least one object")
        names = exemplars.categories
        t0 = time.perf_counter()
        calls0, hits0, enc0, head0 = self.encoder_calls, self.cache_hits, self.seconds_encode, self.seconds_head
        by_scale: dict[float, list[str]] = {}
        for name in names:
            by_scale.setdefault(exemplars.scales[name], []).append(name)
        stride = self.model.metadata.stride
        cell_px = self._density_cell(max(by_scale))
        density = DensityAccumulator(self.source.width, self.source.height, cell_px, names, self.georef)
        estimated = {n: 0.0 for n in names}
        total_tiles = sum(len(self.grid(s)) for s in by_scale)
        done = 0
        boxes_all, scores_all, cats_all = [], [], []
        for scale, cats in by_scale.items():
            grid = self.grid(scale)
            channels = [names.index(c) for c in cats]
            parts = []
            _check(cancel)
            for tile, feats, out in self._tile_heads(grid, scale, exemplars, cats):
                _check(cancel)
                done += 1
                if progress:
                    progress(done / total_tiles, f"detected tile {done}/{total_tiles}")
                if feats is None:
                    continue
                s = self._model_scale(tile)
                valid8 = feats["valid8"]
                cell_area_scene = (stride / s) ** 2
                density.add(tile.window, out.count_density * valid8[None] / cell_area_scene, channels)
                self._accumulate_counts(estimated, cats, out.count_density * valid8[None], tile, s, stride)
                for k, name in enumerate(cats):
                    keep = out.valid[k] & (out.scores[k] >= threshold)
                    b = out.boxes[k][keep] / s + np.array([tile.window.col_off, tile.window.row_off] * 2)
                    sc = out.scores[k][keep]
                    on_data = _on_valid(b, tile, s, stride, valid8)
                    parts.append(TileDetections(tile, b[on_data], sc[on_data], np.full(int(on_data.sum()), names.index(name))))
            if progress:
                progress(done / total_tiles, "merging")
            b, sc, ci = merge_tile_detections(parts, grid, margin_px=16.0 / min(scale, 1.0))
            boxes_all.append(b); scores_all.append(sc); cats_all.append(ci)
        boxes = np.concatenate(boxes_all) if boxes_all else np.zeros((0, 4))
        scores = np.concatenate(scores_all) if scores_all else np.zeros(0, np.float32)
        cat_idx = np.concatenate(cats_all) if cats_all else np.zeros(0, np.int64)
        order = np.argsort(-scores, kind="stable")
        dmap = density.result()
        dmap.values *= float(cell_px * cell_px)  # objects per density cell: the raster sums to the count
        stats = self._stats_since(t0, calls0, hits0, enc0, head0, total_tiles)
        if progress:
            progress(1.0, "done")
        return DetectionResult(boxes_px=boxes[order], scores=scores[order].astype(np.float32),
                               categories=np.array([names[i] for i in cat_idx[order]], dtype=object),
                               category_names=list(names), georef=self.georef, density=dmap,
                               estimated_counts=estimated, scales=dict(exemplars.scales), stats=stats)

    def _tile_heads(self, grid: TileGrid, scale: float, exemplars: ExemplarSet, cats: list[str],
                    ) -> Iterator[tuple[Tile, dict[str, np.ndarray] | None, HeadOutput | None]]:
        """``(tile, features, head outputs for cats)`` over ``grid`` in order (None, None for an
        all-nodata tile). While tiles still need encoding they go one by one (encoder and head
        alternate, each using every core); once every tile is encoded (a re-prompt) the heads of
        up to ``model.head_workers`` tiles run side by side, one thread each."""
        tiles = list(grid)
        workers = self.model.head_workers
        if workers < 2 or len(tiles) < 2 or self._uncached(tiles, scale):
            for tile, feats in self.features(grid, scale):
                yield tile, feats, None if feats is None else self._predict(tile, scale, feats, exemplars, cats)
            return
        queue: deque = deque()
        upcoming = iter(tiles)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deal-head") as pool:

            def submit(tile: Tile) -> None:
                feats = self.tile_features(tile, scale)  # on this thread: the cache is not shared
                job = None if feats is None else self._launch(tile, scale, feats, exemplars, cats, pool)
                queue.append((tile, feats, job))

            try:
                for tile in itertools.islice(upcoming, 2 * workers):
                    submit(tile)
                while queue:
                    tile, feats, job = queue.popleft()
                    out = None if job is None else self._collect(job)
                    nxt = next(upcoming, None)
                    if nxt is not None:
                        submit(nxt)
                    yield tile, feats, out
            finally:
                for *_, job in queue:
                    if job is not None and isinstance(job.pending, Future):
                        job.pending.cancel()

    def _predict(self, tile: Tile, scale: float, feats: dict, exemplars: ExemplarSet, cats: list[str]) -> HeadOutput:
        """Prompt-head outputs for ``cats`` on a tile. Prompt sets do not interact in the head, so a
        category whose clicks did not change since an earlier run is taken from memory and only
        the changed ones run (adding a click for one category leaves the others' work alone)."""
        return self._collect(self._launch(tile, scale, feats, exemplars, cats))

    def _launch(self, tile: Tile, scale: float, feats: dict, exemplars: ExemplarSet, cats: list[str],
                pool: ThreadPoolExecutor | None = None) -> _HeadJob:
        """Start the head for the categories not in the head cache: now, or on ``pool`` (a future)."""
        tile_key = self._tile_key(tile, scale)
        keys = {c: (tile_key, exemplars.digest(c)) for c in cats}
        missing = [c for c in cats if keys[c] not in self._head_cache]
        pending = None
        if missing:
            ex, mask = exemplars.batch(missing)
            tf = TileFeatures.from_dict(feats, self.model.feature_names)
            pending = pool.submit(_timed, self.model.predict_parallel, tf, ex, mask) if pool else _timed(self.model.predict, tf, ex, mask)
        return _HeadJob(keys, cats, missing, pending)

    def _collect(self, job: _HeadJob) -> HeadOutput:
        """Store a launched head run in the head cache; the outputs for all its categories."""
        keys, cats, missing, pending = job
        if missing:
            out, seconds = pending.result() if isinstance(pending, Future) else pending
            self.seconds_head += seconds
            for k, c in enumerate(missing):
                self._head_cache[keys[c]] = out.select(k)
                while len(self._head_cache) > HEAD_CACHE_ENTRIES:
                    self._head_cache.popitem(last=False)
        for c in cats:
            self._head_cache.move_to_end(keys[c])
        return HeadOutput.stack([self._head_cache[keys[c]] for c in cats])

    def _density_cell(self, finest_scale: float) -> int:
        cell = max(1, round(self.model.metadata.stride / finest_scale))
        floor = math.ceil(math.sqrt(self.source.width * self.source.height / MAX_DENSITY_CELLS))
        return max(cell, floor)

    @staticmethod
    def _accumulate_counts(estimated: dict, cats: list[str], count_density: np.ndarray, tile: Tile, s: float, stride: int) -> None:
        """Add the density mass whose cells lie in the tile's core (each scene part counted once)."""
        h, w = count_density.shape[-2:]
        cols = tile.window.col_off + (np.arange(w) + 0.5) * stride / s
        rows = tile.window.row_off + (np.arange(h) + 0.5) * stride / s
        core = tile.core
        in_c = (cols >= core.col_off) & (cols < core.col_end)
        in_r = (rows >= core.row_off) & (rows < core.row_end)
        for k, name in enumerate(cats):
            estimated[name] += float(count_density[k][np.ix_(in_r, in_c)].sum())


def _on_valid(boxes_scene: np.ndarray, tile: Tile, s: float, stride: int, valid8: np.ndarray) -> np.ndarray:
    """True for boxes whose centre lies on valid data (detections on nodata are dropped)."""
    if len(boxes_scene) == 0:
        return np.zeros(0, bool)
    cx = ((boxes_scene[:, 0] + boxes_scene[:, 2]) / 2 - tile.window.col_off) * s / stride
    cy = ((boxes_scene[:, 1] + boxes_scene[:, 3]) / 2 - tile.window.row_off) * s / stride
    h, w = valid8.shape
    j = np.clip(cx.astype(int), 0, w - 1)
    i = np.clip(cy.astype(int), 0, h - 1)
    return valid8[i, j] > 0.5


class _HeadJob(NamedTuple):
    """A head run for one tile: cache keys per category, the categories asked for, those that
    run (not cached), and their result ``(HeadOutput, seconds)`` or its future."""

    keys: dict
    cats: list[str]
    missing: list[str]
    pending: tuple | Future | None


def _timed(fn: Callable, *args) -> tuple:
    """``(fn(*args), seconds it took)``."""
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise CancelledError("cancelled by the user; nothing was written")


def _sub_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """``progress`` for a part of the work spanning ``[start, end]`` of the whole."""
    if progress is None:
        return None
    return lambda fraction, message: progress(start + (end - start) * fraction, message)


def merge_bracket(results: list[DetectionResult]) -> DetectionResult:
    """One result from detections of the same categories at several factors (``results[0]``
    at each category's own factor).

    Detections at the other factors count ``BRACKET_WEIGHT`` of their scores: the own factor is
    the likelier one, and without the weight the extra false positives raise the counts (count
    MAE 5.6 -> 18.0 on the validation split). Then, per category, a box overlapping a surer one
    (IoU > ``BRACKET_IOU`` or intersection over the smaller > ``BRACKET_IOS``, as across tiles)
    is dropped. Density, estimated counts and scales come from ``results[0]``;
    ``stats["bracket_scales"]`` lists each category's factors."""
    from .merge import nms

    main = results[0]
    names = list(main.category_names)
    boxes = np.concatenate([r.boxes_px for r in results]).reshape(-1, 4)
    scores = np.concatenate([r.scores * (1.0 if i == 0 else BRACKET_WEIGHT) for i, r in enumerate(results)]).astype(np.float32)
    cats = np.concatenate([np.asarray(r.categories, dtype=object) for r in results])
    keep = []
    for name in names:
        idx = np.flatnonzero(cats == name)
        keep.append(idx[nms(boxes[idx], scores[idx], BRACKET_IOU, BRACKET_IOS)])
    kept = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    kept = kept[np.argsort(-scores[kept], kind="stable")]
    stats = dict(main.stats)
    stats["bracket_scales"] = {n: sorted({r.scales[n] for r in results if n in r.scales}) for n in names}
    return DetectionResult(boxes_px=boxes[kept], scores=scores[kept], categories=cats[kept].astype(object),
                           category_names=names, georef=main.georef, density=main.density,
                           estimated_counts=dict(main.estimated_counts), scales=dict(main.scales), stats=stats)


class Probe(NamedTuple):
    """A click seen at one factor: ``density`` D at the click, ``size`` of the clicked object
    (model px, the encoder's size map) and ``found_px`` the sizes (sqrt(w*h), model px) of the
    objects the prompt head is sure of in the probe window."""

    density: float
    size: float
    found_px: np.ndarray


def box_sizes(boxes: np.ndarray) -> np.ndarray:
    """``sqrt(w * h)`` of ``(n, 4)`` xyxy boxes (degenerate boxes give 0)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))


def population_sizes(found_at: Callable[[int], np.ndarray], index: int, object_px: float,
                     minimum: int = POPULATION_MIN, wider: int = POPULATION_WIDER) -> np.ndarray:
    """The population the factor ``PROBE_SCALES[index]`` is corrected towards: sizes (model px at
    that factor) of the objects the probes found around the clicks (``found_at(j)``: at factor j).

    Large objects fill the 256 px probe window: where it holds fewer than ``minimum`` and those
    are larger than ``object_px``, the sizes come from the nearest smaller factor (at most
    ``wider`` sqrt(2) steps down; the scale search has probed them all already) whose wider
    window holds enough, scaled to this factor. A few objects no larger than ``object_px`` mean
    a sparse scene (ships on open water), not a small window: they are returned as they are.
    """
    here = np.asarray(found_at(index), np.float64)
    here = here[here > 0]
    if len(here) >= minimum or not len(here) or np.median(here) <= object_px:
        return here
    for lower in range(index - 1, max(index - wider, 0) - 1, -1):
        found = np.asarray(found_at(lower), np.float64)
        found = found[found > 0]
        if len(found) >= minimum:
            return found * (PROBE_SCALES[index] / PROBE_SCALES[lower])
    return here


def population_step(found_px: np.ndarray, target_px: float, minimum: int = POPULATION_MIN,
                    most: int = POPULATION_STEP) -> int:
    """How many sqrt(2) factor steps bring the median found object to ``target_px`` (0 when fewer
    than ``minimum`` were found), limited to ``±most``: positive enlarges the scene."""
    found = np.asarray(found_px, np.float64)
    found = found[found > 0]
    if len(found) < minimum:
        return 0
    steps = int(round(2 * math.log2(target_px / float(np.median(found)))))
    return max(-most, min(most, steps))
