"""Image preprocessing before feature computation: resampling, re-segmentation, discretisation."""
