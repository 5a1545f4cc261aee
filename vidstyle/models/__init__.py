"""Generator architectures, the :class:`Stylizer` wrapper and the checkpoint format."""

from ._base import (ARCHITECTURES, BUILTIN_ARCHITECTURE_MODULES, CHECKPOINT_FORMAT, FOREIGN_LOADERS,
                    Architecture, ModelConfig, Stylizer, build_stylizer, get_architecture,
                    load_stylizer, read_checkpoint, register_architecture, save_checkpoint)

__all__ = ["ARCHITECTURES", "Architecture", "BUILTIN_ARCHITECTURE_MODULES", "CHECKPOINT_FORMAT",
           "FOREIGN_LOADERS", "ModelConfig", "Stylizer", "build_stylizer", "get_architecture",
           "load_stylizer", "read_checkpoint", "register_architecture", "save_checkpoint"]
