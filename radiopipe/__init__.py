"""radiopipe: IBSI-compliant radiomics features and leak-free classical ML for medical images.

The package never configures logging itself; only the command line does. A ``NullHandler`` on
the package logger keeps library use silent unless the caller configures logging.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
