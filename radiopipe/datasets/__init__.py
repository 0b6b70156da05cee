"""Built-in datasets, built from package-shipped real data (nothing is downloaded)."""

from radiopipe.datasets.cache import cache_root
from radiopipe.datasets.mni152 import mni152_tissue

BUILTIN = {"mni152_tissue": mni152_tissue}

__all__ = ["BUILTIN", "cache_root", "mni152_tissue"]
