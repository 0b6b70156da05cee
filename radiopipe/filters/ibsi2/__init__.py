"""The IBSI chapter-2 convolutional filters: boundary conditions, mean, Laplacian of Gaussian,
Laws kernels, Gabor, separable and Simoncelli wavelets, as the IBSI reference manual defines them.

Every filter takes a NumPy or CuPy array and the axes it acts along, in order: the first letter
of a Laws or wavelet name (``E5L5S5``, ``LHL``) acts along ``axes[0]``. A 2D filter names two
axes and is applied to every slice across the remaining one. Sizes are in voxels; the caller
converts millimetres with the spacing.
"""
