"""Instructor references of the graded functions, one module per assignment notebook.

``helpers/reference/<nb>.py`` holds the reference of every graded function of notebook ``<nb>``
(its snake_case name) under the graded name and signature. The checks in ``helpers/checks/<nb>.py``
compare students' functions with these. Never part of the student kit.
"""
