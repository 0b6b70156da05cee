"""radiopipe's own feature implementations (NumPy/SciPy, array-namespace formulas)."""
