"""Instructor references of the graded functions, one module per assignment notebook; never in the student kit."""
