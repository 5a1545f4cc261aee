"""Guide channels for models trained with them: read from a folder, or regenerated
while streaming the way the trainer's ``--auto-guides`` made them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, UsageError
from ..io import frame_name, list_images, read_image_rgb, sequence_indices


class GuideFolder:
    """Guide images for each source frame: ``DIR/000123.png`` for frame 123
    (zero-based source index, as ``vidstyle extract`` names frames; any zero padding),
    or, when the names are not all numbers, the images in natural order.

    ``channels`` 1 reads greyscale, 3 reads RGB; images are resized to ``size``.
    """

    def __init__(self, folder: str | Path, channels: int, size: tuple[int, int]) -> None:
        self.folder = Path(folder)
        if channels not in (1, 3):
            raise UsageError(f"the model takes {channels} guide channels; a guide folder supplies "
                             "1 (greyscale) or 3 (RGB)")
        if not self.folder.is_dir():
            raise InputError("no such guide folder", self.folder)
        files = list_images(self.folder)
        if not files:
            raise InputError("guide folder holds no images", self.folder)
        self.channels, self.size = channels, size
        self._by_index = dict(zip(sequence_indices(files), files))

    def __call__(self, index: int) -> np.ndarray:
        """(H, W, channels) uint8 guide for source frame ``index``."""
        file = self._by_index.get(index)
        if file is None:
            raise InputError(f"no guide image for frame {index} (expected {frame_name(index)})", self.folder)
        image = read_image_rgb(file)
        if image.shape[1::-1] != tuple(self.size):
            image = cv2.resize(image, tuple(self.size), interpolation=cv2.INTER_AREA)
        if self.channels == 1:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return image.reshape(image.shape[0], image.shape[1], self.channels)


class GuideStream:
    """Guides generated on the fly with :func:`vidstyle.guides.generate_guides`
    from the recipe the trainer stored (``config.info["auto_guides"]``: keys and
    seed masks), at the working size. Frames must be asked for in increasing
    order (as the renderer does); the generator streams, so memory stays bounded."""

    def __init__(self, source: Path, recipe: dict, size: tuple[int, int]) -> None:
        from ..guides import generate_guides

        seed_masks = recipe.get("seed_masks")
        if seed_masks is not None and not Path(seed_masks).exists():
            raise InputError("the model's guide points were seeded inside these masks, which are gone; "
                             "give guides (a folder) instead", seed_masks, params=("guides",))
        self._frames = generate_guides(source, recipe["keys"], seed_masks=seed_masks, size=size)
        self._current: tuple[int, np.ndarray] | None = None

    def __call__(self, index: int) -> np.ndarray:
        while self._current is None or self._current[0] < index:
            try:
                self._current = next(self._frames)
            except StopIteration:
                raise InputError(f"no guide for frame {index}: past the end of the guided clip") from None
        if self._current[0] != index:
            raise InputError(f"no guide for frame {index}")
        return self._current[1]
