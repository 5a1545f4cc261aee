"""Generator architectures, the :class:`Stylizer` wrapper and the checkpoint format.

Built-in designs: ``fast`` (the default, ~0.07 MFLOP/pixel) and ``texler``
(Texler et al. 2020's GeneratorJ, ~2 MFLOP/pixel)::

    model = build_stylizer(ModelConfig("fast", guide_channels=0))
    flops_per_pixel(model)
"""

from ._base import (ARCHITECTURES, BUILTIN_ARCHITECTURE_MODULES, CHECKPOINT_FORMAT, DEFAULT_ARCH,
                    FOREIGN_LOADERS, NEGLIGIBLE_WEIGHT, Architecture, ModelConfig, Stylizer, build_stylizer,
                    flush_negligible_weights,
                    get_architecture, load_stylizer, read_checkpoint, register_architecture,
                    save_checkpoint)
from ._discriminator import PatchDiscriminator, lsgan_loss
from ._fast import FastGenerator
from ._flops import flops_per_pixel
from ._fusion import FusionConfig, TemporalFusion, restore_detail
from ._texler import GeneratorJ
from ._vgg import VGGFeatureLoss, find_vgg_weights


def architecture_names() -> list[str]:
    """Names of every registered design (built-ins loaded)."""
    get_architecture(DEFAULT_ARCH)
    return sorted(ARCHITECTURES)


__all__ = ["ARCHITECTURES", "Architecture", "BUILTIN_ARCHITECTURE_MODULES", "CHECKPOINT_FORMAT",
           "DEFAULT_ARCH", "FOREIGN_LOADERS", "FastGenerator", "FusionConfig", "GeneratorJ", "ModelConfig",
           "PatchDiscriminator", "Stylizer", "VGGFeatureLoss", "architecture_names", "build_stylizer",
           "find_vgg_weights", "flops_per_pixel", "flush_negligible_weights", "NEGLIGIBLE_WEIGHT", "get_architecture", "load_stylizer", "lsgan_loss",
           "read_checkpoint", "register_architecture", "restore_detail", "save_checkpoint", "TemporalFusion"]
