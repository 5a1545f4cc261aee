"""Guide points: Poisson-disk seeding, fixed colours, advection with a consistency check."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.spatial import cKDTree



# Forward-backward test for points: |F + B~|^2 <= 0.05 (|F|^2 + |B~|^2) + 2. Five times
# looser than Lai et al.'s per-pixel test, whose 1.5 px tolerance at 9 px/frame
# dropped 40% of the points per frame on real gameplay (DIS error, not occlusion),
# and dropped points pop, which is flicker of its own.
_FB_RELATIVE = 0.05
_FB_ABSOLUTE = 2.0


def poisson_disk(width: int, height: int, radius: float, rng: np.random.Generator,
                 rounds: int = 4) -> np.ndarray:
    """Poisson-disk sampling of [0, width) x [0, height) by vectorised dart throwing.

    The plane is cut into cells of radius / sqrt(2) (one point each at most); cells
    five apart cannot conflict, so each of the 25 phases of a round throws one dart
    into every empty cell of the phase at once and keeps those at least ``radius``
    from all points. Four rounds leave every spot within 1.3 radius of a point.

    Returns (N, 2) float32 points (x, y), no two closer than ``radius``.
    """
    cell = radius / np.sqrt(2.0)
    grid_w, grid_h = int(np.ceil(width / cell)), int(np.ceil(height / cell))
    pad = 2
    points = np.full((grid_h + 2 * pad, grid_w + 2 * pad, 2), np.nan, dtype=np.float64)
    offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy, dx) != (0, 0)]
    for _ in range(rounds):
        for phase_y in range(5):
            for phase_x in range(5):
                gy, gx = np.mgrid[phase_y:grid_h:5, phase_x:grid_w:5]
                gy, gx = gy.ravel() + pad, gx.ravel() + pad
                empty = np.isnan(points[gy, gx, 0])
                gy, gx = gy[empty], gx[empty]
                if not len(gy):
                    continue
                x = (gx - pad + rng.random(len(gx))) * cell
                y = (gy - pad + rng.random(len(gy))) * cell
                ok = (x < width) & (y < height)
                for dy, dx in offsets:
                    other = points[gy + dy, gx + dx]
                    close = (other[:, 0] - x) ** 2 + (other[:, 1] - y) ** 2 < radius * radius
                    ok &= ~close  # NaN (empty cell) compares False
                points[gy[ok], gx[ok], 0] = x[ok]
                points[gy[ok], gx[ok], 1] = y[ok]
    flat = points.reshape(-1, 2)
    return flat[~np.isnan(flat[:, 0])].astype(np.float32)


def point_colours(seed: int, key: int, ids: np.ndarray) -> np.ndarray:
    """A fixed random colour per (seed, key, point id): (N, 3) float32 in [0, 1].

    A hash rather than a random stream, so a point keeps its colour however many
    points are dropped or added around it.
    """
    with np.errstate(over="ignore"):  # splitmix64 relies on wrap-around
        x = (ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15) * np.uint64(key + 1)
             + np.uint64(0xBF58476D1CE4E5B9) * np.uint64(seed + 1))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    channels = np.stack([(x >> np.uint64(s)) & np.uint64(0xFF) for s in (0, 8, 16)], axis=1)
    return channels.astype(np.float32) / 255.0


@dataclass
class PointSet:
    """The guide points of one key frame on one frame.

    ``positions`` (N, 2) float32 (x, y); ``ids`` (N,) int64, stable for a point's
    life (its colour derives from it); ``layers`` (N,) int32, the compositing pass
    the point is drawn in (points of one pass never overlap when assigned).
    """

    key: int
    positions: np.ndarray
    ids: np.ndarray
    layers: np.ndarray
    next_id: int = 0
    pattern: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))

    def copy(self) -> "PointSet":
        return PointSet(self.key, self.positions.copy(), self.ids.copy(), self.layers.copy(),
                        self.next_id, self.pattern)

    def keep(self, selection: np.ndarray) -> None:
        self.positions, self.ids, self.layers = (self.positions[selection], self.ids[selection],
                                                 self.layers[selection])

    def add(self, positions: np.ndarray, reach: int) -> None:
        """Append points with fresh ids, each in the lowest pass free around it."""
        if not len(positions):
            return
        layers = assign_layers(self.positions, self.layers, positions, 2 * reach + 1)
        ids = np.arange(self.next_id, self.next_id + len(positions), dtype=np.int64)
        self.next_id += len(positions)
        self.positions = np.concatenate([self.positions, positions.astype(np.float32)])
        self.ids = np.concatenate([self.ids, ids])
        self.layers = np.concatenate([self.layers, layers])


def assign_layers(existing: np.ndarray, existing_layers: np.ndarray, new: np.ndarray,
                  spacing: float) -> np.ndarray:
    """Greedy pass numbers for ``new`` points so that no two points of one pass are
    within ``spacing`` (Chebyshev distance) of each other: in order, each new point
    takes the lowest pass not used by an existing or earlier new point near it.

    The neighbour search is vectorised (k-d trees); only the greedy choice over
    earlier new neighbours is a Python loop, on integer bit sets of taken passes.
    """
    count = len(new)
    if not count:
        return np.zeros(0, dtype=np.int32)
    taken = [0] * count  # bit b set: pass b is used next to the point
    if len(existing):
        near = cKDTree(existing).query_ball_point(new, spacing, p=np.inf, return_sorted=False)
        lengths = np.fromiter(map(len, near), dtype=np.intp, count=count)
        if lengths.any():
            mine = np.repeat(np.arange(count), lengths)
            other = np.concatenate([np.asarray(n, dtype=np.intp) for n in near if n])
            keep = _closer(new[mine], existing[other], spacing)
            _mark_taken(taken, mine[keep], existing_layers[other[keep]])
    pairs = cKDTree(new).query_pairs(spacing, p=np.inf, output_type="ndarray")
    pairs = pairs[_closer(new[pairs[:, 0]], new[pairs[:, 1]], spacing)] if len(pairs) else pairs
    # Earlier new neighbours of each point, grouped by point (query_pairs gives i < j).
    pairs = pairs[np.argsort(pairs[:, 1], kind="stable")]
    earlier = pairs[:, 0]
    bounds = np.searchsorted(pairs[:, 1], np.arange(count + 1)).tolist()
    out = [0] * count
    bits = np.zeros(count, np.uint64)  # 1 << out[i] while every pass fits in 64 bits
    wide = max(taken) >= 1 << 64
    for index in range(count):
        low, high = bounds[index], bounds[index + 1]
        used = taken[index]
        if high > low:
            if wide:
                for other in earlier[low:high].tolist():
                    used |= 1 << out[other]
            else:
                used |= int(np.bitwise_or.reduce(bits[earlier[low:high]]))
        layer = (~used & (used + 1)).bit_length() - 1  # the lowest free pass
        out[index] = layer
        if layer < 64:
            bits[index] = np.uint64(1) << np.uint64(layer)
        else:  # from here on, bit sets need Python's unbounded integers
            wide = True
    return np.asarray(out, dtype=np.int32)


def _mark_taken(taken: list[int], index: np.ndarray, layer: np.ndarray) -> None:
    """taken[i] |= 1 << layer for each (i, layer); ``index`` is sorted."""
    if not len(index):
        return
    if layer.max() < 64:  # the usual case: one OR-reduction per point in numpy
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        bits = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), layer.astype(np.uint64)), starts)
        for i, value in zip(index[starts].tolist(), bits.tolist()):
            taken[i] |= value
        return
    for i, value in zip(index.tolist(), layer.tolist()):
        taken[i] |= 1 << value


def _closer(a: np.ndarray, b: np.ndarray, spacing: float) -> np.ndarray:
    """Rows of (N, 2) ``a`` and ``b`` closer than ``spacing`` on both axes (the trees'
    search is inclusive; this is the strict test, in the points' own precision)."""
    return (np.abs(a - b) < spacing).all(axis=1)


def sample(field_: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (H, W, C) float32 field at (N, 2) points: (N, C), border clamp."""
    if not len(points):
        return np.zeros((0, field_.shape[2]), np.float32)
    map_x = np.ascontiguousarray(points[:, 0].reshape(-1, 1))
    map_y = np.ascontiguousarray(points[:, 1].reshape(-1, 1))
    values = cv2.remap(field_, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return values.reshape(len(points), field_.shape[2])


def advect(points: PointSet, flow: np.ndarray, reverse_flow: np.ndarray, *, check: bool,
           merge_distance: float) -> None:
    """Move points by ``flow`` (frame s to frame d); ``reverse_flow`` maps d to s.

    With ``check``, points whose motion fails a forward-backward test (they are
    being covered) or that leave the frame are dropped, and of two points
    closer than ``merge_distance`` the younger one is dropped, so blobs do not pile
    up where the scene converges.
    """
    if not len(points.positions):
        return
    height, width = flow.shape[:2]
    motion = sample(flow, points.positions)
    moved = points.positions + motion
    if check:
        back = sample(reverse_flow, moved)
        mismatch = ((motion + back) ** 2).sum(axis=1)
        ok = mismatch <= _FB_RELATIVE * ((motion ** 2).sum(axis=1) + (back ** 2).sum(axis=1)) + _FB_ABSOLUTE
        ok &= (moved[:, 0] >= -0.5) & (moved[:, 0] <= width - 0.5)
        ok &= (moved[:, 1] >= -0.5) & (moved[:, 1] <= height - 0.5)
        points.positions = moved.astype(np.float32)
        points.keep(ok)
        if merge_distance > 0 and len(points.positions) > 1:
            pairs = cKDTree(points.positions).query_pairs(merge_distance, output_type="ndarray")
            if len(pairs):
                younger = np.where(points.ids[pairs[:, 0]] > points.ids[pairs[:, 1]], pairs[:, 0], pairs[:, 1])
                alive = np.ones(len(points.positions), dtype=bool)
                alive[younger] = False
                points.keep(alive)
    else:
        points.positions = moved.astype(np.float32)


def reseed(points: PointSet, region: np.ndarray | None, radius: float, reach: int) -> None:
    """Add points of the key's Poisson pattern that fall in holes: inside ``region``
    ((H, W) bool, None = everywhere) and at least ``2 * radius`` from every point, a
    gap Poisson-disk sampling never leaves, so only real holes are filled."""
    pattern = points.pattern
    if not len(pattern):
        return
    if len(points.positions):
        distance, _ = cKDTree(points.positions).query(pattern, k=1, distance_upper_bound=2 * radius)
        candidates = pattern[np.isinf(distance)]
    else:
        candidates = pattern
    if region is not None and len(candidates):
        xi = np.clip(candidates[:, 0].astype(int), 0, region.shape[1] - 1)
        yi = np.clip(candidates[:, 1].astype(int), 0, region.shape[0] - 1)
        candidates = candidates[region[yi, xi]]
    points.add(candidates, reach)
