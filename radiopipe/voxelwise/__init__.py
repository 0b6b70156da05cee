"""Voxel-wise feature maps over a whole 3D ROI, by pyradiomics' voxel-based semantics.

:mod:`kernels` crops, discretises and pads a prepared case; :mod:`firstorder`, :mod:`glcm`,
:mod:`gldm` and :mod:`ngtdm` compute a family's features for every kernel at once; :mod:`maps`
runs the configured features of one case and returns them as images on the case's grid.
"""
