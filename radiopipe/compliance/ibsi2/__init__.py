"""The IBSI chapter-2 compliance run: filter configurations against the reference response maps."""
