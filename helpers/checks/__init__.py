"""Visible tests, one module per assignment notebook (helpers/checks/<notebook_snake_name>.py)."""
