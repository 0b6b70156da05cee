"""Image filters (image types): LoG, wavelet and simple point-wise filters."""
