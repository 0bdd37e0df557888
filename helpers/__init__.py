"""Shared package of the offline Convolutional Neural Networks course, one room per concern.

- ``helpers.config``      -- paths (data cache), fast mode and ``autograding()``.
- ``helpers.backend``     -- imports TensorFlow/Keras quietly, keeps its start-up log, tells the device.
- ``helpers.conv``        -- numpy convolution and pooling maths (non-graded names).
- ``helpers.grading``     -- the checking toolkit used by every visible and hidden test.
- ``helpers.checks``      -- ``checks/<nb>.py``: the tests of each assignment notebook.
- ``helpers.reference``   -- ``reference/<nb>.py``: instructor references of the graded functions.
- ``helpers.data``        -- generated data sets (one module each) and their cache.
- ``helpers.models``      -- architectures and shipped weights.
- ``helpers.viz``         -- rendering, photos, training plots, activations, lecture widgets.
- ``helpers.instructor``  -- the ``cnn-course`` tool: nbgrader calls, autograding, report, sandbox.

``<nb>`` is the notebook's snake_case name. docs/ARCHITECTURE.md says what each room may import.
Importing ``helpers`` itself is cheap: nothing here imports TensorFlow.
"""

__version__ = "0.1.0"
