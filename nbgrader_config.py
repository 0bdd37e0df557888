"""nbgrader configuration: the repository root is the nbgrader course directory.

source/weekN/  -> instructor notebooks (assignment id "weekN")
release/weekN/ -> student versions (nbgrader generate_assignment weekN)
submitted/, autograded/, feedback/ -> nbgrader's usual folders (git-ignored but for a README)
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = "."

# Solution regions become this stub in the student version.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Training cells run in fast mode under nbgrader (helpers.config.fast_mode), yet a slow CPU
# still needs headroom; a student's infinite loop is stopped after this many seconds per cell.
c.Execute.timeout = 300
c.Execute.startup_timeout = 120

# Feedback pages (generate_feedback, cnn-course feedback, formgrader's button) without the hidden tests:
# nbgrader's default shows them in each test cell's code and in the tracebacks' context lines.
# ClearHiddenTracebackLines reads the hidden block from the source, so it runs before ClearHiddenTests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "helpers.instructor.feedback_filters.ClearHiddenTracebackLines",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Do not let a submission's output balloon the gradebook or the feedback pages.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 100
