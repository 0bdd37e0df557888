"""Instructor tooling over nbgrader: the ``cnn-course`` command and what it runs.

- :mod:`helpers.instructor.cli`            -- the ``cnn-course`` command line;
- :mod:`helpers.instructor.nbgrader_calls` -- nbgrader's apps and the one environment they run in;
- :mod:`helpers.instructor.autograde`      -- parallel, sandboxed autograding with integrity checks;
- :mod:`helpers.instructor.report`         -- score distributions and submissions that need a look;
- :mod:`helpers.instructor.sandbox`        -- the kernel launcher: resource limits, privilege drop, Landlock.

Nothing here is imported by notebooks; students never need it.
"""
