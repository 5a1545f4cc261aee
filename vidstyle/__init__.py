"""vidstyle: stylize recorded game footage from a few painted keyframes, without flicker.

Subpackages, one per stage: :mod:`vidstyle.io` (decode/encode), :mod:`vidstyle.flow`
(optical flow, warping, occlusion), :mod:`vidstyle.metrics` (flicker),
:mod:`vidstyle.masks` and :mod:`vidstyle.guides` (training data), :mod:`vidstyle.train`
(few-shot trainer), :mod:`vidstyle.render` (streaming renderer).
"""

__version__ = "0.1.0"
