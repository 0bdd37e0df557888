"""Shared package of the offline Convolutional Neural Networks course.

Modules, by concern:

- ``helpers.config``   -- paths (data cache) and the fast-mode switch used by training cells.
- ``helpers.backend``  -- imports TensorFlow/Keras quietly and tells which device is used.
- ``helpers.conv``     -- numpy reference and fast (vectorised) convolution and pooling.
- ``helpers.grading``  -- the checking toolkit used by every visible and hidden test.
- ``helpers.checks``   -- the visible tests of each assignment, one function per graded function.

Importing ``helpers`` itself is cheap: nothing here imports TensorFlow.
"""

__version__ = "0.1.0"
