"""Entry point for ``python -m radiopipe``."""

import sys

from radiopipe.cli import main

sys.exit(main())
