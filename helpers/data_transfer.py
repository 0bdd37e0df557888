"""Old path of :mod:`helpers.data.shapes_on_photos`, kept so notebooks released before the restructure still run."""

from helpers.data.shapes_on_photos import CLASS_NAMES, load_shapes_on_photos, make_shapes_on_photos, source_photos  # noqa: F401
