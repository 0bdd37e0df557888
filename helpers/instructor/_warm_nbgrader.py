"""Imported once by each grading worker's fork server, so that every ``nbgrader autograde`` it forks
starts with nbgrader, nbclient, jupyter_client and SQLAlchemy already imported (seconds per submission).

jsonschema's optional IRI format checker (``rfc3987_syntax``) is kept out: it builds a grammar at
import time (about 3 s) and nbformat's schemas never use that format.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

import jupyter_client  # noqa: E402,F401
import nbclient  # noqa: E402,F401
import nbgrader.apps.nbgraderapp  # noqa: E402,F401
import nbgrader.converters.autograde  # noqa: E402,F401
import sqlalchemy.orm  # noqa: E402,F401
