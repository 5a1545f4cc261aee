"""``TrainOptions``: the one list of what train() takes, shared by the CLI and the pipeline."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest

from vidstyle.cli import build_parser
from vidstyle.errors import UsageError
from vidstyle.train import TrainOptions, make_settings, train
from vidstyle.train._options import SETTING_KNOBS


def _train_parser() -> argparse.ArgumentParser:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["train"]


def test_every_train_flag_is_a_train_options_field():
    fields = {f.name for f in dataclasses.fields(TrainOptions)}
    dests = {a.dest for a in _train_parser()._actions} - {"help", "input", "keyframes", "output", "quiet", "func"}
    assert dests <= fields, dests - fields  # run_train passes them by name: none may be dropped
    args = _train_parser().parse_args(["in.mp4", "--keyframes", "k", "-o", "m.pt", "--batch-size", "3",
                                       "--gan-weight", "0.5", "--steps", "7"])
    options = TrainOptions(**{name: getattr(args, name) for name in fields if hasattr(args, name)})
    assert (options.batch_size, options.gan_weight, options.steps, options.minutes) == (3, 0.5, 7, None)


def test_setting_knobs_are_what_make_settings_takes():
    settings = make_settings("fast", **TrainOptions().setting_overrides())
    assert settings == make_settings("fast")  # None everywhere = the design's defaults
    assert set(SETTING_KNOBS) <= {f.name for f in dataclasses.fields(settings)}


def test_train_takes_options_and_keyword_overrides():
    keys = {0: np.zeros((8, 8, 3), np.uint8)}
    with pytest.raises(UsageError, match="at least 1"):
        train("missing.mp4", keys, None, TrainOptions(steps=0))
    with pytest.raises(UsageError, match="at least 1"):  # a keyword wins over the options object
        train("missing.mp4", keys, None, TrainOptions(steps=5), steps=0)
    with pytest.raises(TypeError):
        train("missing.mp4", keys, None, stepz=3)
    with pytest.raises(TypeError):
        TrainOptions(5)  # keyword-only
