"""``python -m hunting``: see hunting.cli."""

import sys

from hunting.cli import main

sys.exit(main())
