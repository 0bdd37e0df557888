"""``python -m helpers.instructor`` = the ``cnn-course`` command."""

import sys

from helpers.instructor.cli import main

sys.exit(main())
