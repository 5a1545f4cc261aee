"""Moving between vidstyle and Texler et al.'s Few-Shot-Patch-Based-Training layout.

Public API::

    export_texler("clip.mp4", "project/", name="Clip", keys=[0, 40], styled="painted/")
    import_texler("project/", "imported/")
    flow = read_a2v2f("project/Clip_gen/flow_bwd/001.A2V2f")
"""

from ._flowfile import read_a2v2f, write_a2v2f
from ._layout import TexlerImport, export_texler, import_texler, texler_name

__all__ = ["TexlerImport", "export_texler", "import_texler", "read_a2v2f", "texler_name", "write_a2v2f"]
