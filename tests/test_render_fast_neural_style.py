"""pytorch/examples fast_neural_style checkpoints: recognised by layout, loaded, rendered."""

from __future__ import annotations

import re

import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.io import probe
from vidstyle.models import load_stylizer, save_checkpoint
from vidstyle.models.fast_neural_style import TransformerNet, is_fast_neural_style_state_dict
from vidstyle.render import render

from ._media import make_clip


def _original_layout_state(old: bool = False) -> dict[str, torch.Tensor]:
    """A random-weight TransformerNet state dict; ``old`` adds the InstanceNorm
    running stats that checkpoints saved before PyTorch 0.4 carry."""
    torch.manual_seed(0)
    state = TransformerNet().state_dict()
    if old:
        for key in list(state):
            match = re.match(r"(.*in\d+)\.weight$", key)
            if match:
                channels = state[key].shape[0]
                state[f"{match[1]}.running_mean"] = torch.zeros(channels)
                state[f"{match[1]}.running_var"] = torch.ones(channels)
    return state


@pytest.mark.parametrize("variant", ["current", "old_running_stats", "data_parallel"])
def test_state_dict_layouts_load(tmp_path, variant):
    state = _original_layout_state(old=variant == "old_running_stats")
    if variant == "data_parallel":
        state = {f"module.{k}": v for k, v in state.items()}
    path = tmp_path / "mosaic.pth"
    torch.save(state, path)
    model = load_stylizer(path)
    assert model.config.arch == "fast_neural_style" and model.size_multiple == 4
    reference = TransformerNet()
    reference.load_state_dict(_original_layout_state())
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():  # same maths as the original on its [0, 255] scale
        expected = (reference(x * 255) / 255).clamp(0, 1)
        assert torch.allclose(model(x), expected, atol=1e-5)
        assert model(torch.rand(1, 3, 30, 45)).shape == (1, 3, 30, 45)  # padded to a multiple of 4


def test_other_state_dicts_are_not_claimed(tmp_path):
    assert not is_fast_neural_style_state_dict({"conv1.weight": torch.zeros(1)})
    path = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(3)}, path)
    with pytest.raises(InputError, match="no known state-dict layout"):
        load_stylizer(path)
    broken = _original_layout_state()
    broken["in1.weight"] = torch.zeros(5)
    torch.save(broken, path)
    with pytest.raises(InputError, match="fast_neural_style"):
        load_stylizer(path)


def test_fast_neural_style_file_renders_and_round_trips_as_vidstyle_checkpoint(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames=6, size=(48, 36))
    pth = tmp_path / "candy.pth"
    torch.save(_original_layout_state(old=True), pth)
    out = tmp_path / "styled.mp4"
    result = render(clip, pth, out)
    assert result.frames == 6 and probe(out).frame_count == 6
    converted = save_checkpoint(tmp_path / "candy_vidstyle.pt", load_stylizer(pth))
    reloaded = load_stylizer(converted)
    assert reloaded.config.arch == "fast_neural_style"
