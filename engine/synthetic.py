"""Synthetic overhead scenes with known objects: the sample scene, test fixtures and benchmarks.

A scene is planned as vector features in SCENE pixels (water with quays and piers, roads
with lane markings, parking lots, an apron with a terminal, buildings, trees) plus
candidate object *slots* (parking stalls, lanes, moorings, aircraft stands, open water).
Rendering rasterises the plan window by window: ground textures come from noise defined on
the global pixel grid, so windows join seamlessly; vehicles, ships and aircraft are drawn
with anti-aliased signed-distance shapes, sun shadows and a sensor blur. Objects never
overlap and never cross a window's edge, which lets :func:`write_large_scene` stream a
scene of any size block by block.

Everything is deterministic for a seed. Categories are ``vehicle``, ``ship`` and ``aircraft``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .georef import GeoReference
from .raster_source import Window

CATEGORIES = ("vehicle", "ship", "aircraft")

# surface labels
_GRASS, _ROAD, _LOT, _WATER, _APRON, _QUAY, _BUILDING, _TREE = range(8)
_VEHICLE_SURFACES = (_ROAD, _LOT)
_DISTRICT_M = 600.0  # a district (water, roads, lots, apron) spans about this many metres


# --- noise on the global pixel grid ---------------------------------------------------------

def _hash_uniform(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """Uniform [-1, 1) values, a pure function of integer lattice coordinates and seed."""
    h = (ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
    h ^= np.uint64((seed * 0x165667B19E3779F9) & 0xFFFFFFFFFFFFFFFF)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


def _axis_weights(start: int, n: int, cell: float):
    pos = (start + np.arange(n) + 0.5) / cell
    i0 = np.floor(pos).astype(np.int64)
    t = pos - i0
    return i0, t * t * (3 - 2 * t)  # smoothstep: no visible lattice creases


def _noise(win: Window, cell_px: float, seed: int, stretch: float = 1.0) -> np.ndarray:
    """Smooth value noise in [-1, 1] over ``win``: float32 (h, w); ``stretch`` > 1 elongates it along x."""
    cell_px = max(cell_px, 1.0)
    ix, tx = _axis_weights(win.col_off, win.width, cell_px * stretch)
    iy, ty = _axis_weights(win.row_off, win.height, cell_px)
    gx = np.arange(ix.min(), ix.max() + 2)
    gy = np.arange(iy.min(), iy.max() + 2)
    lattice = _hash_uniform(gx[None, :], gy[:, None], seed).astype(np.float32)
    cx, cy = ix - gx[0], iy - gy[0]
    tx, ty = tx.astype(np.float32), ty.astype(np.float32)[:, None]
    rows = lattice[:, cx] * (1 - tx) + lattice[:, cx + 1] * tx
    return rows[cy] * (1 - ty) + rows[cy + 1] * ty


def _fractal(win: Window, cell_px: float, seed: int, octaves: int = 4, stretch: float = 1.0) -> np.ndarray:
    """Sum of ``octaves`` noise layers, each half the cell and amplitude of the last; about [-1, 1]."""
    total = np.zeros((win.height, win.width), np.float32)
    amp, norm = 1.0, 0.0
    for k in range(octaves):
        if cell_px / 2**k < 1:
            break
        total += np.float32(amp) * _noise(win, cell_px / 2**k, seed * 131 + k, stretch)
        norm += amp
        amp *= 0.5
    return total * np.float32(1.6 / max(norm, 1e-6))


# --- signed distances in an object's local frame (metres; negative inside) ------------------

def _sd_box(u: np.ndarray, v: np.ndarray, half_u: float, half_v: float, radius: float = 0.0) -> np.ndarray:
    qu = np.abs(u) - half_u + radius
    qv = np.abs(v) - half_v + radius
    outside = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
    return outside + np.minimum(np.maximum(qu, qv), 0) - radius


def _sd_convex(u: np.ndarray, v: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance to a convex polygon given counter-clockwise in (u, v): max over edge half-planes."""
    d = np.full(u.shape, -np.inf)
    for (u0, v0), (u1, v1) in zip(poly, np.roll(poly, -1, axis=0)):
        eu, ev = u1 - u0, v1 - v0
        length = math.hypot(eu, ev)
        # outward normal of a counter-clockwise edge
        d = np.maximum(d, ((u - u0) * ev - (v - v0) * eu) / length)
    return d


def _ccw(poly: list[tuple[float, float]]) -> np.ndarray:
    p = np.asarray(poly, float)
    area = np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
    return p if area > 0 else p[::-1]


def _smooth_inside(d: np.ndarray, soft_m: float) -> np.ndarray:
    return np.clip(0.5 - d / soft_m, 0.0, 1.0)


# --- the objects -----------------------------------------------------------------------------

@dataclass
class _Shape:
    """One object's look: footprint distance, colouring and shadow settings, all in metres."""

    radius_m: float                                             # bounds the footprint around the centre
    sdf: Callable[[np.ndarray, np.ndarray], np.ndarray]
    paint: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (u, v, d) -> (n, 3) colour
    shadow_m: float                                             # shadow offset length
    shadow_strength: float = 0.55
    margin_m: float = 0.3                                       # free space kept around the footprint
    wake: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None  # (u, v) -> brightening


_CAR_COLOURS = np.array([
    (0.86, 0.87, 0.86), (0.90, 0.90, 0.88), (0.66, 0.68, 0.70), (0.55, 0.56, 0.58), (0.40, 0.41, 0.43),
    (0.09, 0.09, 0.10), (0.13, 0.13, 0.15), (0.12, 0.17, 0.30), (0.22, 0.33, 0.55), (0.58, 0.11, 0.09),
    (0.36, 0.08, 0.08), (0.17, 0.26, 0.19), (0.68, 0.62, 0.50),
])
_CAR_COLOUR_P = np.array([14, 10, 12, 8, 10, 12, 6, 6, 6, 6, 3, 3, 4], float)
_GLASS = np.array([0.10, 0.11, 0.13])


def _band(x: np.ndarray, lo: float, hi: float, soft: float) -> np.ndarray:
    """1 inside [lo, hi], falling to 0 over ``soft`` on each side."""
    return np.clip(np.minimum(x - lo, hi - x) / soft + 0.5, 0, 1)


def _vehicle(rng: np.random.Generator) -> _Shape:
    kind = rng.uniform()
    if kind < 0.82:
        length, width = rng.uniform(4.1, 4.9), rng.uniform(1.72, 1.9)
        glass_front, glass_rear = (0.10, 0.30), (-0.38, -0.24)
    elif kind < 0.96:  # vans and SUVs: longer roof
        length, width = rng.uniform(4.8, 5.6), rng.uniform(1.9, 2.05)
        glass_front, glass_rear = (0.22, 0.36), (-0.47, -0.42)
    else:  # small trucks
        length, width = rng.uniform(6.5, 8.5), rng.uniform(2.3, 2.5)
        glass_front, glass_rear = (0.36, 0.43), (0.0, 0.0)
    colour = _CAR_COLOURS[rng.choice(len(_CAR_COLOURS), p=_CAR_COLOUR_P / _CAR_COLOUR_P.sum())]
    colour = np.clip(colour * rng.uniform(0.92, 1.06), 0, 1)
    cargo = np.clip(rng.uniform(0.55, 0.9) * np.ones(3) * rng.uniform(0.9, 1.0, 3), 0, 1)
    is_truck = kind >= 0.96
    sunroof = rng.uniform() < 0.15
    half_l, half_w = length / 2, width / 2

    def sdf(u, v):
        return _sd_box(u, v, half_l, half_w, 0.38)

    def paint(u, v, d):
        un, vn = u / half_l, v / half_w
        # roof bulge: body edges are darker than the middle, like a curved panel in sunlight
        shade = 1.0 - 0.28 * np.abs(vn) ** 3 + 0.05 * (np.abs(vn) < 0.6)
        col = colour[None, :] * shade[:, None]
        front = _band(un, *glass_front, 0.06) * _band(np.abs(vn), -1, 0.80 - 0.25 * (un - glass_front[0]), 0.08)
        rear = _band(un, *glass_rear, 0.06) * _band(np.abs(vn), -1, 0.78, 0.08) if not is_truck else 0 * un
        side = _band(un, glass_rear[1], glass_front[0], 0.05) * _band(np.abs(vn), 0.66, 0.84, 0.07) * (not is_truck)
        glass = np.clip(0.9 * front + 0.8 * rear + 0.45 * side, 0, 1)
        if sunroof:
            glass = np.maximum(glass, _band(un, -0.12, 0.05, 0.05) * _band(np.abs(vn), -1, 0.45, 0.08))
        if is_truck:  # cargo box behind the cab
            box = _band(un, -1.2, glass_front[0] - 0.08, 0.03)
            col = col * (1 - box[:, None]) + (cargo * (1 - 0.1 * np.abs(vn)[:, None] ** 2)) * box[:, None]
        col = col * (1 - glass[:, None]) + (_GLASS + 0.06 * (vn[:, None] > 0.2)) * glass[:, None]
        edge = np.clip(1 + d / 0.25, 0, 1)  # darker rim at the outline
        return col * (1 - 0.35 * edge[:, None])

    return _Shape(math.hypot(half_l, half_w) + 0.2, sdf, paint, shadow_m=rng.uniform(0.9, 1.3),
                  shadow_strength=0.5, margin_m=0.35)


def _ship(rng: np.random.Generator, length: float | None = None, moving: bool | None = None) -> _Shape:
    length = rng.uniform(10, 40) if length is None else length
    beam = length / rng.uniform(3.2, 5.0)
    bow = length * rng.uniform(0.22, 0.35)
    half_l, half_b = length / 2, beam / 2
    tone = rng.choice(4, p=[0.45, 0.2, 0.2, 0.15])
    hull = np.array([(0.88, 0.88, 0.86), (0.58, 0.60, 0.62), (0.16, 0.18, 0.22), (0.45, 0.22, 0.17)][tone])
    deck = np.array([(0.82, 0.80, 0.74), (0.50, 0.52, 0.50), (0.40, 0.36, 0.30), (0.30, 0.38, 0.30)][rng.integers(4)])
    cabin = np.array((0.93, 0.93, 0.92)) * rng.uniform(0.85, 1.0)
    cabin_pos = rng.uniform(-0.35, -0.15)
    cargo = rng.uniform()
    containers = length > 26 and cargo < 0.45
    hatches = length > 24 and not containers and cargo < 0.8
    cockpit = length < 16 and rng.uniform() < 0.7
    # container colours: rust, blue, white, green, grey, orange
    palette = np.array([(0.55, 0.25, 0.18), (0.20, 0.32, 0.55), (0.85, 0.85, 0.82), (0.22, 0.42, 0.30),
                        (0.55, 0.56, 0.57), (0.78, 0.45, 0.15)])
    stacks = palette[rng.integers(len(palette), size=(24, 8))] * rng.uniform(0.85, 1.05, size=(24, 8, 1))
    moving = rng.uniform() < 0.5 if moving is None else moving
    bow_start = half_l - bow

    def half_width(u):
        t = np.clip((u - bow_start) / bow, 0, 1)
        stern = np.clip((u + half_l) / (0.06 * length), 0, 1)
        return half_b * (1 - t ** 1.7) * (0.85 + 0.15 * np.sqrt(stern))

    def sdf(u, v):
        hw = half_width(u)
        slope = np.where(u > bow_start, half_b * 1.7 / bow, 0.0)
        side = (np.abs(v) - hw) / np.sqrt(1 + slope ** 2)
        return np.maximum(side, np.abs(u) - half_l)

    def paint(u, v, d):
        un = u / half_l
        inner = np.clip(-d / 0.45, 0, 1)  # gunwale: hull colour on the rim, deck inside
        col = hull[None, :] * (1 - inner[:, None]) + deck[None, :] * inner[:, None]
        cab = _band(un, cabin_pos - 0.17, cabin_pos + 0.17, 0.03) * _band(np.abs(v) / half_b, -1, 0.7, 0.08)
        cab_shadow = _band(un, cabin_pos - 0.24, cabin_pos - 0.16, 0.03) * _band(np.abs(v) / half_b, -1, 0.7, 0.08)
        col = col * (1 - 0.35 * cab_shadow[:, None])
        if hatches:
            stripes = (np.floor((un + 1) * 7) % 2) * _band(un, cabin_pos + 0.22, 0.55, 0.02)
            holds = stripes * _band(np.abs(v) / half_b, -1, 0.75, 0.08)
            col = col * (1 - 0.25 * holds[:, None])
        if containers:  # 6 m x 2.45 m boxes in bays, with dark gaps between them
            du, dv = (u - (cabin_pos + 0.2) * half_l) / 6.1, (v + 0.8 * half_b) / 2.45
            iu, iv = np.floor(du).astype(int), np.floor(dv).astype(int)
            on = (du >= 0) & (un < 0.62) & (dv >= 0) & (dv < 1.6 * half_b / 2.45)
            box = stacks[iu % 24, iv % 8] * (1 - 0.5 * ((du % 1 < 0.06) | (dv % 1 < 0.1)))[:, None]
            col = np.where(on[:, None], box, col)
        if cockpit:
            pit = _band(un, -0.75, 0.1, 0.05) * _band(np.abs(v) / half_b, -1, 0.62, 0.1)
            col = col * (1 - 0.6 * pit[:, None]) + np.array([0.35, 0.30, 0.24]) * 0.6 * pit[:, None]
        col = col * (1 - cab[:, None]) + (cabin * (1 - 0.1 * (v[:, None] > 0))) * cab[:, None]
        return col * (1 - 0.18 * (np.abs(v) / half_b)[:, None] ** 2)

    def wake(u, v):
        behind = np.clip(-half_l - u, 0, None)
        spread = half_b * 0.8 + 0.12 * behind
        trail = np.exp(-behind / (0.5 * length)) * np.exp(-(v / spread) ** 2) * (u < -half_l + 0.5)
        # the Kelvin wake: two arms diverging backwards from the bow at about 19 degrees
        from_bow = np.clip(half_l - u, 0, None)
        arms = np.exp(-np.abs(np.abs(v) - from_bow * 0.34) / 0.6) * np.exp(-from_bow / (0.8 * length)) * (u < half_l)
        return 0.35 * trail + 0.22 * arms * (np.abs(v) > half_width(u))

    radius = half_l + (1.5 * length if moving else 1.0)
    return _Shape(radius, sdf, paint, shadow_m=rng.uniform(0.8, 2.0), shadow_strength=0.45, margin_m=1.0,
                  wake=wake if moving else None)


def _aircraft(rng: np.random.Generator) -> _Shape:
    span = rng.uniform(30, 60)
    length = span * rng.uniform(0.9, 1.12)
    fus_w = length * rng.uniform(0.085, 0.105)
    sweep = math.radians(rng.uniform(22, 34))
    root_le = length * rng.uniform(0.08, 0.14)
    root_chord = length * rng.uniform(0.17, 0.22)
    tip_chord = length * rng.uniform(0.05, 0.07)
    tail_span = span * rng.uniform(0.3, 0.38)
    tail_root_le = -length / 2 + length * 0.2
    tail_chord = length * 0.11
    half_l, half_f = length / 2, fus_w / 2
    white = np.array((0.90, 0.91, 0.92)) * rng.uniform(0.85, 1.0)
    wing_col = white * rng.uniform(0.78, 0.92)
    livery = np.array([(0.15, 0.25, 0.55), (0.65, 0.12, 0.12), (0.85, 0.85, 0.85), (0.2, 0.45, 0.3)][rng.integers(4)])
    engines_per_wing = 1 if rng.uniform() < 0.75 else 2
    tip_le = root_le - (span / 2 - half_f) * math.tan(sweep)
    wing = _ccw([(root_le, 0.0), (tip_le, span / 2), (tip_le - tip_chord, span / 2), (root_le - root_chord, 0.0)])
    t_tip_le = tail_root_le - (tail_span / 2) * math.tan(sweep + 0.1)
    tail = _ccw([(tail_root_le, 0.0), (t_tip_le, tail_span / 2), (t_tip_le - tail_chord * 0.45, tail_span / 2),
                 (tail_root_le - tail_chord, 0.0)])
    engine_v = [span / 2 * f for f in ((0.34,) if engines_per_wing == 1 else (0.28, 0.55))]

    def fus_half(u):
        nose = np.clip((half_l - u) / (0.09 * length), 0, 1)
        tailcone = np.clip((u + half_l) / (0.25 * length), 0, 1)
        return half_f * np.sqrt(nose) * (0.35 + 0.65 * tailcone)

    def engines(u, v):
        d = np.full(u.shape, np.inf)
        for ev in engine_v:
            eu = root_le - (ev - half_f) * math.tan(sweep) - 0.01 * length
            d = np.minimum(d, _sd_box(u - eu, np.abs(v) - ev, 0.05 * length, 0.022 * length, 0.02 * length))
        return d

    def sdf(u, v):
        av = np.abs(v)
        fus = np.maximum(av - fus_half(u), np.abs(u) - half_l)
        return np.minimum.reduce([fus, _sd_convex(u, av, wing), _sd_convex(u, av, tail), engines(u, v)])

    def paint(u, v, d):
        av = np.abs(v)
        in_fus = np.maximum(av - fus_half(u), np.abs(u) - half_l) <= 0.05
        col = np.where(in_fus[:, None], white[None, :] * (1 - 0.25 * (av / half_f)[:, None] ** 2), wing_col[None, :])
        # wing surfaces show flap lines and a darker trailing edge
        chord_pos = np.clip((u - (root_le - root_chord)) / root_chord, 0, 1)
        col = col * np.where(in_fus, 1.0, 0.92 + 0.08 * chord_pos)[:, None]
        eng = engines(u, v) <= 0
        col[eng] = np.array([0.45, 0.46, 0.48]) * (1 - 0.2 * (u[eng] > 0))[:, None]
        fin = (np.abs(v) < 0.22) & (u < -half_l + 0.2 * length)
        col[fin] = livery
        cockpit = _band(u, half_l - 0.075 * length, half_l - 0.045 * length, 0.15) * (av < half_f * 0.65)
        col = col * (1 - cockpit[:, None]) + _GLASS * cockpit[:, None]
        return col * (1 - 0.3 * np.clip(1 + d / 0.3, 0, 1))[:, None]

    return _Shape(math.hypot(half_l, span / 2) + 1.0, sdf, paint, shadow_m=rng.uniform(4.0, 6.0),
                  shadow_strength=0.5, margin_m=6.0)


# --- the plan ------------------------------------------------------------------------------

@dataclass
class _Rect:
    """A rotated rectangle in scene pixels: centre, half sizes along its own axes, angle of the first axis."""

    cx: float
    cy: float
    half_a: float
    half_b: float
    angle: float
    surface: int
    colour: tuple[float, float, float] | None = None   # roofs
    height_m: float = 0.0                              # buildings cast shadows
    marking: str | None = None                         # "stalls", "apron"
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)  # yellow (a0, b0, a1, b1), px
    gable: bool = False                                # pitched roof with a ridge along the long axis

    def bbox(self) -> tuple[float, float, float, float]:
        c, s = abs(math.cos(self.angle)), abs(math.sin(self.angle))
        ex, ey = self.half_a * c + self.half_b * s, self.half_a * s + self.half_b * c
        return self.cx - ex, self.cy - ey, self.cx + ex, self.cy + ey


@dataclass
class _Road:
    x0: float
    y0: float
    x1: float
    y1: float
    half_width: float

    def bbox(self) -> tuple[float, float, float, float]:
        w = self.half_width
        return min(self.x0, self.x1) - w, min(self.y0, self.y1) - w, max(self.x0, self.x1) + w, max(self.y0, self.y1) + w


@dataclass
class _Slot:
    """Where an object may go: centre in scene px, heading (radians, x right / y down), category."""

    x: float
    y: float
    heading: float
    category: str
    priority: float          # lower goes first
    seed: int
    ship_length: float | None = None
    moving: bool | None = None


@dataclass
class _Plan:
    width: int
    height: int
    gsd_m: float
    seed: int
    water: list[_Rect] = field(default_factory=list)
    areas: list[_Rect] = field(default_factory=list)       # quays, piers, lots, aprons, buildings, in paint order
    roads: list[_Road] = field(default_factory=list)
    trees: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, radius (px)
    slots: list[_Slot] = field(default_factory=list)
    occupancy: dict[str, float] = field(default_factory=dict)


class _District:
    """Builds one district's features in a canonical frame (water at the top), then rotates them into place."""

    def __init__(self, plan: _Plan, x0: float, y0: float, w: float, h: float, rng: np.random.Generator,
                 water: bool, apron: bool):
        self.plan, self.rng = plan, rng
        self.m = 1.0 / plan.gsd_m  # pixels per metre
        self.turn = int(rng.integers(4))
        self.x0, self.y0, self.w, self.h = x0, y0, w, h
        self.cw, self.ch = (w, h) if self.turn % 2 == 0 else (h, w)
        self._build(water, apron)

    def _place(self, x: float, y: float) -> tuple[float, float]:
        w, h = self.w, self.h
        x, y = [(x, y), (w - y, x), (w - x, h - y), (y, h - x)][self.turn]
        return self.x0 + x, self.y0 + y

    def _angle(self, a: float) -> float:
        return a + self.turn * math.pi / 2

    def rect(self, x, y, half_a, half_b, angle, surface, **kw) -> _Rect:
        cx, cy = self._place(x, y)
        r = _Rect(cx, cy, half_a, half_b, self._angle(angle), surface, **kw)
        (self.plan.water if surface == _WATER else self.plan.areas).append(r)
        return r

    def road(self, x0, y0, x1, y1, width_m):
        a, b = self._place(x0, y0), self._place(x1, y1)
        self.plan.roads.append(_Road(a[0], a[1], b[0], b[1], width_m * self.m / 2))

    def slot(self, x, y, heading, category, priority, **kw):
        gx, gy = self._place(x, y)
        self.plan.slots.append(_Slot(gx, gy, self._angle(heading), category, priority,
                                     int(self.rng.integers(2**31)), **kw))

    def _build(self, water: bool, apron: bool) -> None:
        rng, m, cw, ch = self.rng, self.m, self.cw, self.ch
        top = 0.0
        if water:
            top = self._harbour()
        road_w = rng.uniform(9, 12)
        main_y = top + rng.uniform(18, 30) * m
        self.road(-road_w * m, main_y, cw + road_w * m, main_y, road_w)
        self._lane_slots(0, main_y, cw, main_y, road_w)
        xs = sorted(rng.uniform([0.28, 0.62], [0.4, 0.75]) * cw)
        side_w = rng.uniform(7, 9)
        for x in xs:
            self.road(x, main_y, x, ch + side_w * m, side_w)
            self._lane_slots(x, main_y + road_w * m, x, ch, side_w)
        below = main_y + road_w * m / 2 + 4 * m
        gaps = [(0.0, xs[0] - side_w * m / 2), (xs[0] + side_w * m / 2, xs[1] - side_w * m / 2),
                (xs[1] + side_w * m / 2, cw)]
        apron_block = int(rng.choice([0, 2])) if apron else -1
        for i, (gx0, gx1) in enumerate(gaps):
            gx0, gx1 = gx0 + 4 * m, gx1 - 4 * m
            if gx1 - gx0 < 20 * m or ch - below < 20 * m:
                continue
            if i == apron_block:
                self._apron(gx0, below, gx1, ch - 4 * m)
            else:
                self._block(gx0, below, gx1, ch - 4 * m)

    def _harbour(self) -> float:
        rng, m, cw, ch = self.rng, self.m, self.cw, self.ch
        water_h = ch * rng.uniform(0.24, 0.32)
        quay_h = rng.uniform(6, 10) * m
        self.rect(cw / 2, water_h / 2, cw / 2 + 2, water_h / 2 + 2, 0.0, _WATER)
        self.rect(cw / 2, water_h + quay_h / 2, cw / 2 + 2, quay_h / 2, 0.0, _QUAY)
        n_piers = max(1, int(cw / (rng.uniform(110, 160) * m)))
        pier_len = water_h * rng.uniform(0.35, 0.55)
        pier_xs = (np.arange(n_piers) + 0.5 + rng.uniform(-0.15, 0.15, n_piers)) * cw / n_piers
        for px in pier_xs:
            pw = rng.uniform(7, 11) * m
            self.rect(px, water_h - pier_len / 2, pw / 2, pier_len / 2 + 1, 0.0, _QUAY)
            for side in (-1, 1):  # moorings along each side of the pier, bow towards the open water
                y = water_h - 4 * m
                while y > water_h - pier_len:
                    length = float(rng.uniform(10, 40))
                    beam = length / 4.0
                    if y - length * m < water_h - pier_len - 10 * m:
                        break
                    self.slot(px + side * (pw / 2 + (beam / 2 + 1.5) * m), y - length * m / 2, -math.pi / 2,
                              "ship", rng.uniform(0, 0.6), ship_length=length, moving=False)
                    y -= (length + rng.uniform(3, 12)) * m
        x = rng.uniform(0, 20) * m
        while x < cw:  # moored along the quay, between the piers
            length = float(rng.uniform(10, 40))
            self.slot(x + length * m / 2, water_h - (length / 8 + 1.5) * m, rng.choice([0.0, math.pi]), "ship",
                      rng.uniform(0, 0.9), ship_length=length, moving=False)
            x += (length + rng.uniform(4, 30)) * m
        open_h = water_h - pier_len - 15 * m
        for _ in range(int(cw * water_h / (100 * m) ** 2 * 3) + 4 if open_h > 0 else 0):  # under way or at anchor
            self.slot(rng.uniform(0, cw), rng.uniform(0, open_h), rng.uniform(0, 2 * math.pi),
                      "ship", rng.uniform(0.3, 1.0))
        return water_h + quay_h

    def _lane_slots(self, x0, y0, x1, y1, road_w):
        rng, m = self.rng, self.m
        length = math.hypot(x1 - x0, y1 - y0)
        heading = math.atan2(y1 - y0, x1 - x0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        for side in (-1, 1):  # right-hand traffic: each lane drives its own way
            offset = side * road_w * m / 4
            t = rng.uniform(0, 20) * m
            while t < length:
                x, y = x0 + ux * t - uy * offset, y0 + uy * t + ux * offset
                self.slot(x, y, heading + (0 if side > 0 else math.pi) + rng.normal(0, 0.03), "vehicle",
                          rng.uniform(0.2, 1.0))
                t += rng.uniform(7, 30) * m

    def _block(self, x0, y0, x1, y1):
        """A city block between roads: a parking lot, rows of buildings, grass and trees."""
        rng, m = self.rng, self.m
        w, h = x1 - x0, y1 - y0
        lot = (0.0, 0.0, 0.0, 0.0)
        lot_w, lot_h = w * rng.uniform(0.55, 0.9), h * rng.uniform(0.3, 0.5)
        if lot_h > 20 * m and lot_w > 20 * m:
            angle = 0.0 if rng.uniform() < 0.6 else float(rng.uniform(-0.7, 0.7))
            # a rotated lot is shrunk so it stays inside its place
            c, s = abs(math.cos(angle)), abs(math.sin(angle))
            ha, hb = lot_w / 2, lot_h / 2
            scale = min(1.0, lot_w / 2 / (ha * c + hb * s), lot_h / 2 / (ha * s + hb * c))
            lx = x0 + lot_w / 2 if rng.uniform() < 0.5 else x1 - lot_w / 2
            self._lot(lx, y0 + lot_h / 2, ha * scale, hb * scale, angle)
            lot = (lx - lot_w / 2 - 6 * m, y0, lx + lot_w / 2 + 6 * m, y0 + lot_h + 6 * m)
        y = y0
        while y < y1 - 12 * m:
            row_h = min(rng.uniform(12, 35) * m, y1 - y)
            x = x0 + rng.uniform(0, 6) * m
            while x < x1 - 12 * m:
                bw = min(rng.uniform(12, 45) * m, x1 - x)
                clear = x + bw < lot[0] or x > lot[2] or y + row_h < lot[1] or y > lot[3]
                if clear and rng.uniform() < 0.7:
                    roof = [(0.52, 0.52, 0.53), (0.36, 0.36, 0.38), (0.60, 0.36, 0.30), (0.72, 0.72, 0.70),
                            (0.45, 0.43, 0.40), (0.55, 0.30, 0.24)][rng.integers(6)]
                    self.rect(x + bw / 2, y + row_h / 2, bw / 2, row_h / 2, 0.0, _BUILDING, colour=roof,
                              height_m=float(rng.uniform(4, 15)), gable=bool(rng.uniform() < 0.4))
                x += bw + rng.uniform(5, 15) * m
            y += row_h + rng.uniform(6, 16) * m
        for _ in range(int(w * h / (35 * m) ** 2)):
            self._tree_cluster(rng.uniform(x0, x1), rng.uniform(y0, y1))

    def _tree_cluster(self, x, y):
        rng, m = self.rng, self.m
        for _ in range(rng.integers(1, 7)):
            tx, ty = self._place(x + rng.normal(0, 5 * m), y + rng.normal(0, 5 * m))
            self.plan.trees.append((tx, ty, float(rng.uniform(1.8, 4.5) * m)))

    def _lot(self, cx, cy, half_a, half_b, angle):
        """A parking lot: rows of 2.5 m x 5 m stalls, back to back, with 6.5 m aisles."""
        rng, m = self.rng, self.m
        self.rect(cx, cy, half_a, half_b, angle, _LOT, marking="stalls")
        ca, sa = math.cos(angle), math.sin(angle)
        stall_w, stall_d, aisle = 2.5 * m, 5.0 * m, 6.5 * m
        n_stalls = int((2 * half_a - 2 * m) // stall_w)
        b = -half_b + aisle  # an aisle along the first edge
        facing = 1
        while b + stall_d <= half_b:
            row_b = b + stall_d / 2
            for k in range(n_stalls):
                a = -half_a + m + (k + 0.5) * stall_w
                head = math.pi / 2 * facing * (1 if rng.uniform() < 0.85 else -1)  # most park nose-in
                la, lb = a + rng.normal(0, 0.08) * m, row_b + rng.normal(0, 0.1) * m
                self.slot(cx + la * ca - lb * sa, cy + la * sa + lb * ca, angle + head + rng.normal(0, 0.05),
                          "vehicle", rng.uniform(0, 0.95))
            b += stall_d
            b += aisle if facing < 0 else 0.0
            facing = -facing

    def _apron(self, x0, y0, x1, y1):
        """Concrete apron with a terminal along the road and aircraft stands facing it."""
        rng, m = self.rng, self.m
        w, h = x1 - x0, y1 - y0
        term_h = min(rng.uniform(18, 28) * m, h * 0.25)
        cx, cy = x0 + w / 2, y0 + h / 2
        apron = self.rect(cx, cy, w / 2, h / 2, 0.0, _APRON, marking="apron")
        self.rect(cx, y0 + term_h / 2, w / 2 - 2 * m, term_h / 2, 0.0, _BUILDING,
                  colour=(0.74, 0.75, 0.76), height_m=12.0)
        row_y = y0 + term_h + 6 * m
        taxi_y = row_y + 82 * m
        x = x0 + 8 * m
        pitch = rng.uniform(66, 74) * m  # stands are sized for the largest aircraft
        while x + pitch <= x1:
            stand_x = x + pitch / 2
            apron.lines.append((stand_x - cx, row_y + 8 * m - cy, stand_x - cx, taxi_y - cy))
            self.slot(stand_x, row_y + 40 * m, -math.pi / 2 + rng.normal(0, 0.02), "aircraft", rng.uniform(0, 0.7))
            x += pitch
        if taxi_y < y1 - 10 * m:
            apron.lines.append((x0 + 6 * m - cx, taxi_y - cy, x1 - 6 * m - cx, taxi_y - cy))
        # remote stands further out, then aircraft taxiing anywhere
        remote_y = taxi_y + 45 * m
        while remote_y + 40 * m < y1:
            x = x0 + 8 * m + rng.uniform(0, 20) * m
            while x + pitch <= x1:
                self.slot(x + pitch / 2, remote_y, rng.choice([-1, 1]) * math.pi / 2 + rng.normal(0, 0.05),
                          "aircraft", rng.uniform(0.2, 0.9))
                x += pitch
            remote_y += 80 * m
        for _ in range(3 if x1 - x0 > 70 * m and y1 - row_y > 70 * m else 0):
            self.slot(rng.uniform(x0 + 35 * m, x1 - 35 * m), rng.uniform(row_y + 40 * m, y1 - 30 * m),
                      rng.uniform(0, 2 * math.pi), "aircraft", rng.uniform(0.4, 1.0))


def _plan_scene(width: int, height: int, seed: int, gsd_m: float) -> _Plan:
    plan = _Plan(width, height, gsd_m, seed, occupancy={"vehicle": 0.62, "ship": 0.5, "aircraft": 0.72})
    district_px = _DISTRICT_M / gsd_m
    nx, ny = max(1, round(width / district_px)), max(1, round(height / district_px))
    for j in range(ny):
        for i in range(nx):
            rng = np.random.default_rng([seed, j, i, 17])
            first = i == 0 and j == 0  # the first district shows every category
            water = first or rng.uniform() < 0.35
            apron = first or rng.uniform() < 0.25
            _District(plan, i * width / nx, j * height / ny, width / nx, height / ny, rng, water, apron)
    rng = np.random.default_rng([seed, 99])
    for _ in range(int(width * height * gsd_m ** 2 / 2500)):  # loose trees on the grass everywhere
        plan.trees.append((rng.uniform(0, width), rng.uniform(0, height), float(rng.uniform(1.8, 4.5) / gsd_m)))
    return plan


# --- rendering -----------------------------------------------------------------------------

def _local_grid(win: Window, box: tuple[float, float, float, float]):
    """Pixel-centre coordinates of ``box`` clipped to ``win``: (slices into the window, xs, ys) or None."""
    c0, r0 = max(int(math.floor(box[0])), win.col_off), max(int(math.floor(box[1])), win.row_off)
    c1, r1 = min(int(math.ceil(box[2])) + 1, win.col_end), min(int(math.ceil(box[3])) + 1, win.row_end)
    if c1 <= c0 or r1 <= r0:
        return None
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float64) + 0.5
    return (slice(r0 - win.row_off, r1 - win.row_off), slice(c0 - win.col_off, c1 - win.col_off)), xs, ys


def _rgb(r: float, g: float, b: float) -> np.ndarray:
    return np.array([r, g, b], np.float32)


def _sub_window(win: Window, rs: slice, cs: slice) -> Window:
    """The scene window of the part ``[rs, cs]`` of ``win``."""
    return Window(win.col_off + cs.start, win.row_off + rs.start, cs.stop - cs.start, rs.stop - rs.start)


def _texture(surface: int, win: Window, seed: int, m: float) -> np.ndarray:
    """Ground texture (h, w, 3) float32 of one surface type over ``win`` (global noise: seamless)."""
    h, w = win.height, win.width
    fine = _noise(win, 0.6 * m, seed + 7)
    if surface == _GRASS:
        mix = np.clip(0.5 + 0.6 * _fractal(win, 70 * m, seed + 1, 2), 0, 1)[..., None]
        soil = np.clip((_fractal(win, 30 * m, seed + 2, 2) - 0.35) * 3, 0, 1)[..., None]
        col = _rgb(0.25, 0.33, 0.20) + _rgb(0.13, 0.08, 0.08) * mix
        col = col + (_rgb(0.46, 0.41, 0.33) - col) * soil
        bright = 1 + 0.12 * _fractal(win, 6 * m, seed + 3, 3) + 0.07 * fine
    elif surface in (_ROAD, _LOT):
        base = (0.33, 0.33, 0.34) if surface == _ROAD else (0.37, 0.37, 0.37)
        col = _rgb(*base)
        patches = np.clip((_fractal(win, 12 * m, seed + 4, 3) - 0.45) * 4, 0, 1)
        bright = 1 + 0.06 * _fractal(win, 40 * m, seed + 5, 3) + 0.05 * fine - 0.12 * patches
    elif surface in (_APRON, _QUAY):
        base = (0.66, 0.66, 0.63) if surface == _APRON else (0.56, 0.55, 0.52)
        col = _rgb(*base)
        stains = np.clip((_fractal(win, 9 * m, seed + 6, 3) - 0.5) * 2, 0, 1)
        bright = 1 + 0.03 * _fractal(win, 25 * m, seed + 8, 3) + 0.03 * fine - 0.06 * stains
    elif surface == _WATER:
        col = _rgb(0.11, 0.18, 0.21) + 0.025 * _fractal(win, 60 * m, seed + 9, 3)[..., None] * _rgb(0.5, 1, 1)
        ripples = _noise(win, 1.2 * m, seed + 10, stretch=4.0) + 0.5 * _noise(win, 3 * m, seed + 11, stretch=3.0)
        bright = 1 + 0.07 * ripples
    else:
        raise ValueError(surface)
    return np.broadcast_to(col * bright[..., None], (h, w, 3)).astype(np.float32)


def _paint_area(img, labels, win, rect: _Rect, plan: _Plan, textures, sun: np.ndarray, m: float):
    got = _local_grid(win, rect.bbox())
    if got is None:
        return
    (rs, cs), xs, ys = got
    ca, sa = math.cos(rect.angle), math.sin(rect.angle)
    dx, dy = xs - rect.cx, ys - rect.cy
    a, b = dx * ca + dy * sa, -dx * sa + dy * ca
    d = _sd_box(a, b, rect.half_a, rect.half_b)  # pixels
    alpha = np.clip(0.5 - d, 0, 1)
    if rect.surface == _BUILDING:
        grain = _fractal(_sub_window(win, rs, cs), 4 * m, plan.seed + 13, 3)[..., None]
        col = np.array(rect.colour) * (1 + 0.025 * grain)
        if rect.gable:
            across, normal = (b, (-math.sin(rect.angle), math.cos(rect.angle))) if rect.half_a >= rect.half_b \
                else (a, (math.cos(rect.angle), math.sin(rect.angle)))
            lit = -(normal[0] * sun[0] + normal[1] * sun[1])  # > 0: the +side faces the sun
            side = np.where(across > 0, 1.0, -1.0) * np.sign(lit)
            col = col * (1 + 0.14 * side)[..., None] * (1 - 0.25 * _line(across, 0.6 * m))[..., None]
        else:
            parapet = np.clip(1 + (d + 0.5 * m) / 1.0, 0, 1)[..., None]  # roof edge catches the light
            col = col * (1 + 0.12 * parapet)
        if not rect.gable and rect.half_a > 8 * m and rect.half_b > 6 * m:  # rooftop plant
            unit = np.clip(0.5 - _sd_box(a - rect.half_a * 0.3, b, 2.5 * m, 1.8 * m), 0, 1)[..., None]
            col = col * (1 - 0.7 * unit) + np.array([0.62, 0.63, 0.64]) * 0.7 * unit
    else:
        col = textures(rect.surface, rs, cs)
        if rect.marking == "stalls":
            col = _stall_lines(col, a, b, rect, m)
        elif rect.marking == "apron":
            col = _apron_lines(col, a, b, rect, m)
        for a0, b0, a1, b1 in rect.lines:
            la, lb = (a0 + a1) / 2, (b0 + b1) / 2
            half = max(abs(a1 - a0), abs(b1 - b0)) / 2
            along_a = abs(a1 - a0) >= abs(b1 - b0)
            off, run = ((b - lb), np.abs(a - la)) if along_a else ((a - la), np.abs(b - lb))
            paint = (_line(off, 0.25 * m) * (run <= half) * 0.9)[..., None]
            col = col * (1 - paint) + np.array([0.80, 0.66, 0.18]) * paint
    img[rs, cs] = img[rs, cs] * (1 - alpha[..., None]) + col * alpha[..., None]
    labels[rs, cs] = np.where(alpha > 0.5, rect.surface, labels[rs, cs])


def _line(x: np.ndarray, width_px: float) -> np.ndarray:
    """Coverage of a painted line of ``width_px`` centred on x = 0, at pixel resolution."""
    return np.clip(width_px / 2 + 0.5 - np.abs(x), 0, 1) * min(1.0, width_px) ** 0.5


def _stall_lines(col, a, b, rect: _Rect, m: float):
    stall_w, stall_d, aisle = 2.5 * m, 5.0 * m, 6.5 * m
    period = 2 * stall_d + aisle
    bb = b + rect.half_b - aisle  # rows start one aisle in from the edge
    in_rows = (bb % period < 2 * stall_d) & (bb >= 0) & (b < rect.half_b - 0.5 * m)
    aa = a + rect.half_a - m
    stall = _line((aa + stall_w / 2) % stall_w - stall_w / 2, 0.15 * m) * in_rows * (np.abs(a) < rect.half_a - m)
    # the line between back-to-back rows
    centre = _line((bb - stall_d + period / 2) % period - period / 2, 0.15 * m) * (bb >= 0) * (np.abs(a) < rect.half_a - m)
    paint = np.clip(stall + centre * 0.8, 0, 1)[..., None] * 0.85
    return col * (1 - paint) + np.array([0.85, 0.85, 0.82]) * paint


def _apron_lines(col, a, b, rect: _Rect, m: float):
    joints = np.maximum(_line((a + 3.75 * m) % (7.5 * m) - 3.75 * m, 0.3), _line((b + 3.75 * m) % (7.5 * m) - 3.75 * m, 0.3))
    col = col * (1 - 0.12 * joints[..., None])
    return col


def _paint_roads(img, labels, win, plan: _Plan, textures, m: float):
    for road in plan.roads:
        got = _local_grid(win, road.bbox())
        if got is None:
            continue
        (rs, cs), xs, ys = got
        length = math.hypot(road.x1 - road.x0, road.y1 - road.y0)
        ux, uy = (road.x1 - road.x0) / length, (road.y1 - road.y0) / length
        along = (xs - road.x0) * ux + (ys - road.y0) * uy
        across = -(xs - road.x0) * uy + (ys - road.y0) * ux
        d = np.maximum(np.abs(across) - road.half_width, np.maximum(-along, along - length))
        alpha = np.clip(0.5 - d, 0, 1)
        col = textures(_ROAD, rs, cs)
        # dashed centre line (3 m paint, 6 m gap) and solid edge lines, slightly worn
        dash = ((along / m) % 9.0 < 3.0) * _line(across, 0.15 * m)
        edges = _line(np.abs(across) - (road.half_width - 0.5 * m), 0.15 * m)
        wear = np.clip(0.8 + 0.4 * _noise(_sub_window(win, rs, cs), 2 * m, plan.seed + 12), 0.5, 1)
        paint = (np.maximum(dash, edges) * 0.9 * wear)[..., None]
        col = col * (1 - paint) + np.array([0.86, 0.86, 0.84]) * paint
        img[rs, cs] = img[rs, cs] * (1 - alpha[..., None]) + col * alpha[..., None]
        # intersections and lot entrances stay drivable, buildings come later and override
        labels[rs, cs] = np.where((alpha > 0.5) & (labels[rs, cs] != _WATER), _ROAD, labels[rs, cs])


def _paint_trees(img, labels, win, plan: _Plan, sun: np.ndarray, m: float, seed: int):
    trees = np.asarray(plan.trees, np.float64).reshape(-1, 3)
    reach = trees[:, 2] * 2.2 + 2
    near = ((trees[:, 0] + reach > win.col_off) & (trees[:, 0] - reach < win.col_end)
            & (trees[:, 1] + reach > win.row_off) & (trees[:, 1] - reach < win.row_end))
    if not near.any():
        return
    lumps = _noise(win, 1.2 * m, seed + 21)  # ragged crown outlines
    leaves = 1 + 0.25 * _noise(win, 0.6 * m, seed + 3)
    for tx, ty, r in trees[near]:
        shadow_len = 1.2 * r
        reach = r + shadow_len + 2
        centre = (int(ty) - win.row_off, int(tx) - win.col_off)
        if not (0 <= centre[0] < win.height and 0 <= centre[1] < win.width) or labels[centre] != _GRASS:
            continue
        (rs, cs), xs, ys = _local_grid(win, (tx - reach, ty - reach, tx + reach, ty + reach))
        lab = labels[rs, cs]
        lumpy = 0.18 * r * lumps[rs, cs]
        d_sh = np.hypot(xs - tx - sun[0] * shadow_len, ys - ty - sun[1] * shadow_len) - r + lumpy
        sh = np.clip(0.5 - d_sh / 2.0, 0, 1) * (lab != _WATER) * (lab != _BUILDING)
        img[rs, cs] *= (1 - 0.5 * sh)[..., None]
        d = np.hypot(xs - tx, ys - ty) - r + lumpy
        alpha = np.clip(0.5 - d, 0, 1) * (lab == _GRASS)
        lit = np.clip(1 - 0.45 * ((xs - tx) * sun[0] + (ys - ty) * sun[1]) / r, 0.45, 1.3)
        col = _rgb(0.14, 0.22, 0.12) * (lit * leaves[rs, cs])[..., None]
        img[rs, cs] = img[rs, cs] * (1 - alpha[..., None]) + col * alpha[..., None]
        labels[rs, cs] = np.where(alpha > 0.5, _TREE, lab)


def _building_shadows(img, labels, win, plan: _Plan, sun: np.ndarray, m: float):
    """Shadows of buildings on the ground, drawn before the roofs so roofs stay lit."""
    for rect in plan.areas:
        if rect.surface != _BUILDING:
            continue
        length = rect.height_m * 0.8 * m
        x0, y0, x1, y1 = rect.bbox()
        got = _local_grid(win, (x0 - length, y0 - length, x1 + length, y1 + length))
        if got is None:
            continue
        (rs, cs), xs, ys = got
        ca, sa = math.cos(rect.angle), math.sin(rect.angle)
        shade = np.zeros(xs.shape)
        for t in np.linspace(0, 1, 12):  # the swept footprint
            dx, dy = xs - rect.cx - sun[0] * length * t, ys - rect.cy - sun[1] * length * t
            d = _sd_box(dx * ca + dy * sa, -dx * sa + dy * ca, rect.half_a, rect.half_b)
            shade = np.maximum(shade, np.clip(0.5 - d / 1.5, 0, 1))
        img[rs, cs] *= (1 - 0.5 * shade * (labels[rs, cs] != _WATER))[..., None]


def _stamp(img, labels, occupied, win, shape: _Shape, x, y, heading, sun, m, allowed):
    """Draw one object at scene (x, y) if it fits.

    Returns None, or (box (4,) xyxy, oriented box (4, 2) corners) in scene px: the
    axis-aligned and the heading-aligned box of the footprint.
    """
    r = shape.radius_m * m + shape.shadow_m * m + 2
    if not (win.col_off <= x - r and x + r <= win.col_end and win.row_off <= y - r and y + r <= win.row_end):
        return None
    (rs, cs), xs, ys = _local_grid(win, (x - r, y - r, x + r, y + r))
    ch, sh = math.cos(heading), math.sin(heading)
    dx, dy = (xs - x) / m, (ys - y) / m
    u, v = dx * ch + dy * sh, -dx * sh + dy * ch
    d = shape.sdf(u, v)
    near = d <= shape.margin_m
    body = d <= 0.5 / m
    lab = labels[rs, cs]
    if not np.isin(lab[near], allowed).all() or occupied[rs, cs][near].any():
        return None
    if shape.wake is not None:
        foam = 1 + 0.3 * _noise(_sub_window(win, rs, cs), 0.8 * m, 5)
        glow = np.clip(shape.wake(u, v), 0, 1) * (lab == _WATER) * ~occupied[rs, cs] * foam
        img[rs, cs] = img[rs, cs] + (np.array([0.75, 0.8, 0.8]) - img[rs, cs]) * np.clip(glow, 0, 1)[..., None]
    # the shadow falls away from the sun: sample the footprint shifted back along the sun vector
    su, sv = sun[0] * ch + sun[1] * sh, -sun[0] * sh + sun[1] * ch
    d_shadow = shape.sdf(u - su * shape.shadow_m, v - sv * shape.shadow_m)
    shadow = _smooth_inside(d_shadow, 2.2 / m) * shape.shadow_strength
    img[rs, cs] *= (1 - shadow)[..., None]
    alpha = np.clip(0.5 - d * m, 0, 1)
    inside = alpha > 0
    col = shape.paint(u[inside], v[inside], d[inside])
    patch = img[rs, cs]
    patch[inside] = patch[inside] * (1 - alpha[inside, None]) + col * alpha[inside, None]
    occupied[rs, cs] |= body
    fu, fv = _footprint_points(shape, min(0.08, 0.25 / m))
    fx, fy = x + (fu * ch - fv * sh) * m, y + (fu * sh + fv * ch) * m
    cu = np.array([fu.max(), fu.max(), fu.min(), fu.min()])  # front-left, front-right, rear-right, rear-left
    cv = np.array([fv.min(), fv.max(), fv.max(), fv.min()])
    obb = np.stack([x + (cu * ch - cv * sh) * m, y + (cu * sh + cv * ch) * m], axis=1)
    return np.array([fx.min(), fy.min(), fx.max(), fy.max()]), obb


def _footprint_points(shape: _Shape, step: float, coarse: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Local (u, v) points inside the footprint, ``step`` apart near its outline.

    Only coarse cells the outline can cross are sampled finely (the distances are
    1-Lipschitz), so the box of these points matches the true one to ``step``.
    """
    r = shape.radius_m
    centres = np.arange(-r, r + coarse, coarse)
    cu, cv = np.meshgrid(centres, centres, indexing="ij")
    cu, cv = cu.ravel(), cv.ravel()
    d = shape.sdf(cu, cv)
    edge = np.abs(d) <= coarse * 0.75
    n = max(1, int(math.ceil(coarse / step)))
    offsets = (np.arange(n) + 0.5) / n * coarse - coarse / 2
    ou, ov = np.meshgrid(offsets, offsets, indexing="ij")
    fu = (cu[edge, None] + ou.ravel()[None, :]).ravel()
    fv = (cv[edge, None] + ov.ravel()[None, :]).ravel()
    inside = shape.sdf(fu, fv) <= 0
    return np.concatenate([fu[inside], cu[d <= 0]]), np.concatenate([fv[inside], cv[d <= 0]])


_MAKERS = {"vehicle": lambda rng, s: _vehicle(rng),
           "ship": lambda rng, s: _ship(rng, s.ship_length, s.moving),
           "aircraft": lambda rng, s: _aircraft(rng)}
_ALLOWED = {"vehicle": np.array(_VEHICLE_SURFACES), "ship": np.array([_WATER]), "aircraft": np.array([_APRON])}


def _render_window(plan: _Plan, win: Window, counts: dict[str, int] | None):
    """Render ``win`` of the plan: image uint8 (h, w, 3), boxes (N, 4), oriented boxes (N, 4, 2) in scene px, categories (N,)."""
    m = 1.0 / plan.gsd_m
    seed = plan.seed
    sun_angle = np.random.default_rng([seed, 5]).uniform(0.15, 1.4)  # shadows fall down-right, as in most imagery
    sun = np.array([math.cos(sun_angle), math.sin(sun_angle)])
    def textures(surface: int, rs: slice, cs: slice) -> np.ndarray:
        return _texture(surface, _sub_window(win, rs, cs), seed * 7 + surface, m)

    img = _texture(_GRASS, win, seed * 7 + _GRASS, m)
    labels = np.full((win.height, win.width), _GRASS, np.uint8)
    for rect in plan.water:
        _paint_area(img, labels, win, rect, plan, textures, sun, m)
    _paint_roads(img, labels, win, plan, textures, m)
    _building_shadows(img, labels, win, plan, sun, m)
    for rect in plan.areas:
        _paint_area(img, labels, win, rect, plan, textures, sun, m)
    _paint_trees(img, labels, win, plan, sun, m, seed)

    occupied = np.zeros(labels.shape, bool)
    boxes, obbs, cats = [], [], []
    slots = sorted((s for s in plan.slots
                    if win.col_off <= s.x < win.col_end and win.row_off <= s.y < win.row_end),
                   key=lambda s: (CATEGORIES.index(s.category), s.priority))
    placed = {c: 0 for c in CATEGORIES}
    for s in slots:
        if counts is not None:
            if placed[s.category] >= counts.get(s.category, 0):
                continue
        elif s.priority > plan.occupancy[s.category]:
            continue
        shape = _MAKERS[s.category](np.random.default_rng(s.seed), s)
        drawn = _stamp(img, labels, occupied, win, shape, s.x, s.y, s.heading, sun, m, _ALLOWED[s.category])
        if drawn is not None:
            boxes.append(drawn[0])
            obbs.append(drawn[1])
            cats.append(s.category)
            placed[s.category] += 1

    rng = np.random.default_rng([seed, win.col_off, win.row_off, 3])
    img = _sensor(img, rng)
    boxes_px = np.array(boxes, np.float64).reshape(-1, 4)
    boxes_px[:, [0, 2]] = np.clip(boxes_px[:, [0, 2]], win.col_off, win.col_end)
    boxes_px[:, [1, 3]] = np.clip(boxes_px[:, [1, 3]], win.row_off, win.row_end)
    return img, boxes_px, np.array(obbs, np.float64).reshape(-1, 4, 2), np.array(cats, dtype=str)


def _sensor(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Optics and sensor: slight blur, atmospheric haze, noise, 8-bit quantisation."""
    img = img.astype(np.float32)
    side, centre = np.float32(0.22), np.float32(0.56)
    blurred = img * centre
    blurred[1:] += side * img[:-1]
    blurred[:-1] += side * img[1:]
    blurred[0] += side * img[0]
    blurred[-1] += side * img[-1]
    img = blurred * centre
    img[:, 1:] += side * blurred[:, :-1]
    img[:, :-1] += side * blurred[:, 1:]
    img[:, 0] += side * blurred[:, 0]
    img[:, -1] += side * blurred[:, -1]
    img = img * np.float32(0.9) + _rgb(0.06, 0.075, 0.09)  # blue-grey haze lifts the shadows
    # mostly luminance noise, as after a camera's demosaicing
    img += rng.standard_normal(img.shape[:2] + (1,), dtype=np.float32) * np.float32(0.008)
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


# --- public API ----------------------------------------------------------------------------

@dataclass
class SyntheticScene:
    """A rendered scene and its ground truth.

    Attributes:
        image: uint8 ``(H, W, 3)`` RGB.
        boxes_px: float64 ``(N, 4)`` xyxy in scene pixels: the axis-aligned box of each object's
            rotated footprint (not its shadow), clipped to the image.
        categories: ``(N,)`` str, one of :data:`CATEGORIES`.
        obb_px: float64 ``(N, 4, 2)`` oriented boxes (corners in scene px, front-left first):
            the footprint's extent along and across the object's heading.
        gsd_m: ground sample distance the scene was drawn at (metres per pixel).
    """

    image: np.ndarray
    boxes_px: np.ndarray
    categories: np.ndarray
    obb_px: np.ndarray
    gsd_m: float = 0.3


@dataclass
class SyntheticTruth:
    """Ground truth of a scene written block by block (no image kept)."""

    boxes_px: np.ndarray
    categories: np.ndarray
    obb_px: np.ndarray
    gsd_m: float = 0.3


def render_scene(width: int, height: int, seed: int, gsd_m: float = 0.3,
                 counts: dict[str, int] | None = None) -> SyntheticScene:
    """Render a whole scene in memory.

    Args:
        width, height: size in pixels.
        seed: the same seed gives the same bytes.
        gsd_m: metres per pixel; object sizes are real-world (cars ~4.5 x 1.8 m).
        counts: how many objects of each category to place (at most; fewer when the scene
            has too little room); None for the natural density of the layout.
    """
    if width < 1 or height < 1:
        raise ValueError(f"Scene size must be positive, got {width} x {height}.")
    if gsd_m <= 0:
        raise ValueError(f"Ground sample distance must be positive, got {gsd_m}.")
    if counts is not None:
        unknown = set(counts) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"Unknown categories {sorted(unknown)}; use {list(CATEGORIES)}.")
    plan = _plan_scene(width, height, seed, gsd_m)
    image, boxes, obbs, cats = _render_window(plan, Window(0, 0, width, height), counts)
    return SyntheticScene(image, boxes, cats, obbs, gsd_m)


def scene_georef(origin_xy: tuple[float, float], gsd_m: float, crs_wkt: str | None = None) -> GeoReference:
    """North-up georeference with the top-left corner at ``origin_xy`` (map units = metres)."""
    return GeoReference((float(origin_xy[0]), gsd_m, 0.0, float(origin_xy[1]), 0.0, -gsd_m), crs_wkt)


def _profile(width: int, height: int, crs: str, origin_xy, gsd_m: float, tiled: bool) -> dict:
    from rasterio.transform import from_origin

    profile = dict(driver="GTiff", width=width, height=height, count=3, dtype="uint8", crs=crs,
                   transform=from_origin(origin_xy[0], origin_xy[1], gsd_m, gsd_m), compress="deflate",
                   photometric="RGB", interleave="pixel")
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def write_scene_geotiff(scene_or_params: SyntheticScene | dict, path: str | os.PathLike, crs: str = "EPSG:32633",
                        origin_xy: tuple[float, float] = (500000.0, 5500000.0), gsd_m: float | None = None,
                        tiled: bool = True) -> Path:
    """Write a scene (or the ``render_scene`` keyword arguments of one) as an RGB GeoTIFF.

    The pixel size is ``gsd_m`` (default: the scene's own), north up, top-left corner at
    ``origin_xy`` in ``crs``; deflate-compressed, 256 px tiles. Written atomically.
    """
    import rasterio

    from .io.atomic import atomic_path

    if isinstance(scene_or_params, SyntheticScene):
        scene = scene_or_params
    else:
        params = dict(scene_or_params)
        if gsd_m is not None:
            params.setdefault("gsd_m", gsd_m)
        scene = render_scene(**params)
    gsd = scene.gsd_m if gsd_m is None else gsd_m
    h, w = scene.image.shape[:2]
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **_profile(w, h, crs, origin_xy, gsd, tiled)) as dst:
            dst.write(scene.image.transpose(2, 0, 1))
    return Path(path)


def _as_georef(georef_or_transform) -> GeoReference:
    if isinstance(georef_or_transform, GeoReference):
        return georef_or_transform
    if hasattr(georef_or_transform, "to_gdal"):  # rasterio / affine Affine
        return GeoReference(tuple(georef_or_transform.to_gdal()))
    values = tuple(float(v) for v in georef_or_transform)
    if len(values) != 6:
        raise ValueError("Give a GeoReference, an affine transform or a GDAL geotransform of 6 numbers.")
    return GeoReference(values)


def write_truth(scene: SyntheticScene | SyntheticTruth, path: str | os.PathLike, georef_or_transform,
                crs: str = "EPSG:32633") -> Path:
    """Write the ground-truth boxes as polygons in map coordinates with a ``category`` field.

    The format follows the extension (.gpkg GeoPackage, .geojson GeoJSON, .shp Shapefile).
    """
    import pyogrio.raw
    import shapely

    from .io.atomic import atomic_path
    from .io.vector_io import driver_for

    georef = _as_georef(georef_or_transform)
    b = np.asarray(scene.boxes_px, float).reshape(-1, 4)
    cols = b[:, [0, 2, 2, 0, 0]]
    rows = b[:, [1, 1, 3, 3, 1]]
    xs, ys = georef.to_map(cols, rows)
    rings = np.stack([xs, ys], axis=-1)
    geoms = shapely.polygons(rings) if len(rings) else np.array([], dtype=object)
    cats = np.asarray(scene.categories, dtype=object)
    with atomic_path(path) as tmp:
        pyogrio.raw.write(str(tmp), shapely.to_wkb(geoms), field_data=[cats], fields=["category"],
                          geometry_type="Polygon", crs=crs, driver=driver_for(path), layer="truth")
    return Path(path)


def choose_clicks(scene: SyntheticScene | SyntheticTruth, width: int, height: int,
                  margin_px: int = 64) -> dict[str, tuple[float, float]]:
    """One click per category, at the centre of a typical object (median size, away from the edge).

    Returns ``{category: (col_px, row_px)}`` for every category present.
    """
    b = np.asarray(scene.boxes_px, float).reshape(-1, 4)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    clicks = {}
    for cat in CATEGORIES:
        idx = np.flatnonzero(np.asarray(scene.categories) == cat)
        if idx.size == 0:
            continue
        inner = idx[(cx[idx] > margin_px) & (cx[idx] < width - margin_px) & (cy[idx] > margin_px) & (cy[idx] < height - margin_px)]
        pool = inner if inner.size else idx
        best = pool[np.argmin(np.abs(area[pool] - np.median(area[pool])))]
        clicks[cat] = (float(cx[best]), float(cy[best]))
    return clicks


def write_sample_scene(out_dir: str | os.PathLike, size: int = 2048, seed: int = 7) -> dict[str, Path]:
    """The demo's inputs: ``scene.tif`` (EPSG:32633), ``truth.gpkg`` and ``clicks.geojson``.

    ``clicks.geojson`` holds one point per category (property ``category``) at the centre of
    a typical object, in EPSG:4326 longitude/latitude.
    """
    import pyproj

    from .io.atomic import atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gsd, origin, crs = 0.3, (500000.0, 5500000.0), "EPSG:32633"
    scene = render_scene(size, size, seed, gsd)
    paths = {"scene": write_scene_geotiff(scene, out / "scene.tif", crs, origin, gsd),
             "truth": write_truth(scene, out / "truth.gpkg", scene_georef(origin, gsd), crs)}
    to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    georef = scene_georef(origin, gsd)
    features = []
    for cat, (col, row) in choose_clicks(scene, size, size).items():
        lon, lat = to_lonlat.transform(*map(float, georef.to_map(col, row)))
        features.append({"type": "Feature", "properties": {"category": cat},
                         "geometry": {"type": "Point", "coordinates": [round(lon, 9), round(lat, 9)]}})
    with atomic_path(out / "clicks.geojson") as tmp:
        tmp.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1))
    paths["clicks"] = out / "clicks.geojson"
    return paths


def write_large_scene(path: str | os.PathLike, width: int, height: int, seed: int, block: int = 2048,
                      crs: str = "EPSG:32633", origin_xy: tuple[float, float] = (500000.0, 5500000.0),
                      gsd_m: float = 0.3) -> SyntheticTruth:
    """Render and write a scene of any size block by block; memory holds one block at a time.

    The ground joins seamlessly across blocks; objects are placed per block and never cross
    a block's edge. Returns the ground truth (boxes in scene pixels).
    """
    import rasterio

    from .io.atomic import atomic_path

    plan = _plan_scene(width, height, seed, gsd_m)
    boxes, obbs, cats = [], [], []
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **_profile(width, height, crs, origin_xy, gsd_m, True)) as dst:
            for row in range(0, height, block):
                for col in range(0, width, block):
                    win = Window(col, row, min(block, width - col), min(block, height - row))
                    image, b, o, c = _render_window(plan, win, None)
                    dst.write(image.transpose(2, 0, 1),
                              window=rasterio.windows.Window(col, row, win.width, win.height))
                    boxes.append(b)
                    obbs.append(o)
                    cats.append(c)
    return SyntheticTruth(np.concatenate(boxes), np.concatenate(cats), np.concatenate(obbs), gsd_m)
