"""Shape checks for numpy arrays and torch tensors, one helper for every package
(in the manner of kornia's ``KORNIA_CHECK_SHAPE``)."""

from __future__ import annotations

from typing import Any


def check_shape(array: Any, dims: str, what: str, *, dtype: Any = None, **sizes: int) -> dict[str, int]:
    """Raise a ValueError, ``"<what> must be (H, W, 2), got (48, 64)"``, unless ``array.shape`` matches ``dims``.

    ``dims`` is comma-separated: a number must match exactly, ``3|4`` is either, a name
    (``H``, ``W``, ``B``...) matches any size and the same size wherever it repeats, and
    ``sizes[name]`` when given (``check_shape(flow, "H, W, 2", "flow", H=48, W=64)``).
    ``dtype``, when given, must be the array's dtype too. Returns the sizes the names took,
    to pass on to the check of a second array of the same size.
    """
    shape = tuple(getattr(array, "shape", ()))
    wanted = [d.strip() for d in dims.split(",")]
    shown = ", ".join(str(sizes.get(d, d)) for d in wanted)
    got = f"{shape}" if hasattr(array, "shape") else type(array).__name__
    if dtype is not None:
        shown, got = f"({shown}) {_dtype_name(dtype)}", f"{got} {_dtype_name(getattr(array, 'dtype', None))}"
    else:
        shown = f"({shown})"
    found = dict(sizes)
    ok = len(shape) == len(wanted) and (dtype is None or getattr(array, "dtype", None) == dtype)
    for dim, size in zip(wanted, shape) if ok else ():
        if dim.replace("|", "").isdigit():
            ok = size in {int(d) for d in dim.split("|")}
        else:
            ok = found.setdefault(dim, size) == size
        if not ok:
            break
    if not ok:
        raise ValueError(f"{what} must be {shown}, got {got}")
    return {k: v for k, v in found.items() if k in wanted}


def _dtype_name(dtype: Any) -> str:
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype)
    return str(name).replace("torch.", "")
