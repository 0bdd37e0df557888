"""Feedback pages without the hidden tests: the traceback filter on IPython's real traceback format.

The end-to-end check (a real ``cnn-course feedback`` page) is in tests/test_instructor_workflow.py.
"""

from __future__ import annotations

import nbformat

from helpers.instructor.feedback_filters import HIDDEN_NOTE, ClearHiddenTracebackLines, clear_hidden_lines, hidden_line_numbers

SOURCE = ('"""conv_forward: shapes and values."""\n'          # 1
          "conv_forward_test(conv_forward)\n"                 # 2
          "### BEGIN HIDDEN TESTS\n"                          # 3
          "check_conv_forward(conv_forward, seed=301)\n"      # 4
          "check_conv_forward(conv_forward, seed=302)\n"      # 5
          "check_conv_forward(conv_forward, seed=303)\n"      # 6
          "check_conv_forward(conv_forward, seed=304)\n"      # 7
          "### END HIDDEN TESTS\n"                            # 8
          'print("All tests passed.")')                        # 9

# what IPython 9 prints for a frame of the cell (colours as in an autograded notebook)
VISIBLE_FAILS = ("\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[8]\x1b[39m\x1b[32m, line 2\x1b[39m\n"
                 "\x1b[32m      1\x1b[39m \x1b[33m\"\"\"conv_forward: shapes and values.\"\"\"\x1b[39m\n"
                 "\x1b[32m----> \x1b[39m\x1b[32m2\x1b[39m conv_forward_test(conv_forward)\n"
                 "\x1b[32m      3\x1b[39m \x1b[38;5;66;03m### BEGIN HIDDEN TESTS\x1b[39;00m\n"
                 "\x1b[32m      4\x1b[39m check_conv_forward(conv_forward, seed=\x1b[32m301\x1b[39m)\n")
HIDDEN_FAILS = ("\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[8]\x1b[39m\x1b[32m, line 6\x1b[39m\n"
                "\x1b[32m      4\x1b[39m check_conv_forward(conv_forward, seed=301)\n"
                "\x1b[32m      5\x1b[39m check_conv_forward(conv_forward, seed=302)\n"
                "\x1b[32m----> \x1b[39m\x1b[32m6\x1b[39m check_conv_forward(conv_forward, seed=303)\n"
                "\x1b[32m      7\x1b[39m check_conv_forward(conv_forward, seed=304)\n"
                "\x1b[32m      8\x1b[39m ### END HIDDEN TESTS\n")
LIBRARY_FRAME = ("File \x1b[32m/course/helpers/grading.py:72\x1b[39m, in \x1b[36mfail\x1b[39m\n"
                 "\x1b[32m      4\x1b[39m lines.append(cause)\n")


def test_hidden_line_numbers_run_from_begin_to_end_marker():
    assert hidden_line_numbers(SOURCE) == {3, 4, 5, 6, 7, 8}
    assert hidden_line_numbers("a = 1\n### BEGIN HIDDEN TESTS\nb = 2") == {2, 3}  # unclosed: to the end
    assert hidden_line_numbers("assert f(1) == 2\n") == set()


def test_visible_failure_keeps_its_lines_and_loses_the_hidden_context():
    cleared = clear_hidden_lines(VISIBLE_FAILS, hidden_line_numbers(SOURCE))
    assert "conv_forward_test(conv_forward)" in cleared and "In[8]" in cleared
    assert "HIDDEN TESTS" not in cleared and "301" not in cleared
    assert cleared.count(HIDDEN_NOTE) == 1 and cleared.rstrip("\n").endswith(HIDDEN_NOTE)


def test_failing_hidden_check_is_not_shown_even_without_a_marker_in_view():
    cleared = clear_hidden_lines(HIDDEN_FAILS, hidden_line_numbers(SOURCE))
    assert "seed=" not in cleared and cleared.rstrip("\n").split("\n")[1:] == [HIDDEN_NOTE]


def test_library_frames_and_cells_without_hidden_tests_are_untouched():
    hidden = hidden_line_numbers(SOURCE)
    assert clear_hidden_lines(LIBRARY_FRAME, hidden) == LIBRARY_FRAME   # line 4 of grading.py is not the cell's
    assert clear_hidden_lines(VISIBLE_FAILS, set()) == VISIBLE_FAILS


def test_preprocessor_rewrites_error_outputs_of_code_cells():
    cell = nbformat.v4.new_code_cell(SOURCE)
    cell.outputs = [nbformat.v4.new_output("error", ename="GradingFailure", evalue="conv_forward: values differ",
                                           traceback=["----", VISIBLE_FAILS, LIBRARY_FRAME]),
                    nbformat.v4.new_output("stream", name="stdout", text="seed=301 printed by the student\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook, _ = ClearHiddenTracebackLines()(notebook, {})   # as nbconvert calls it: enabled by default
    cell = notebook.cells[0]
    traceback = cell.outputs[0]["traceback"]
    assert traceback[0] == "----" and traceback[2] == LIBRARY_FRAME and "301" not in traceback[1]
    assert cell.outputs[0]["evalue"] == "conv_forward: values differ"       # the message stays
    assert cell.outputs[1]["text"] == "seed=301 printed by the student\n"  # other outputs untouched
