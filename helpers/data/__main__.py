"""``python -m helpers.data build|preview``: see :func:`helpers.data.main`."""

import sys

from helpers.data import main

sys.exit(main())
