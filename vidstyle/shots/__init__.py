"""Shots and keyframe suggestions for whole recordings.

Public API::

    report = find_shots("session.mkv", max_keyframes=12)   # one fast pass
    report.shots        # [Shot(index, start, end, start_time, end_time, transition)]
    report.cuts         # first frame of every shot but the first
    report.keyframes    # [Keyframe(frame, time, shot, covers)]: the fewest frames covering the appearance
    write_shots(report, "session_shots/")   # shots.json, keyframes/000123.png, contact_sheet.png
    report = load_shots("session_shots/shots.json")
    coverage = find_coverage("session.mkv", [120, 4000])  # after painting: where the model will guess
    coverage.stretches  # [Stretch(start, end, start_time, end_time, distance, nearest)]

Lower level: :func:`scan` (per-frame measures), :func:`detect_cuts`, :func:`shots_from_cuts`,
:func:`suggest_keyframes`, :func:`coverage_distance`, :func:`contact_sheet`.
"""

from ._coverage import Coverage, Stretch, coverage_of, find_coverage
from ._detect import CutOptions, Shot, Transition, detect_cuts, shots_from_cuts
from ._keyframes import DEFAULT_RADIUS, Keyframe, coverage_distance, suggest_keyframes
from ._report import (JSON_NAME, KEYFRAME_FOLDER, SHEET_NAME, ShotReport, contact_sheet, find_shots,
                      load_shots, write_shots)
from ._scan import Scan, scan

__all__ = [
    "Coverage", "coverage_of", "find_coverage", "Stretch", "CutOptions", "DEFAULT_RADIUS", "JSON_NAME", "KEYFRAME_FOLDER", "Keyframe", "SHEET_NAME", "Scan", "Shot",
    "ShotReport", "Transition", "contact_sheet", "coverage_distance", "detect_cuts", "find_shots", "load_shots",
    "scan", "shots_from_cuts", "suggest_keyframes", "write_shots",
]
