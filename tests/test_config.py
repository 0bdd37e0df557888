"""helpers.config: the autograding and fast-mode switches, and where data lives."""

from __future__ import annotations

import pytest

from helpers import config


@pytest.mark.parametrize("execution,forced,autograding,fast", [
    ("", "", False, False),
    ("autograde", "", True, True),
    ("validate", "", True, True),
    ("", "1", False, True),
    ("autograde", "0", True, False),   # CNN_COURSE_FAST=0 forces full runs even under nbgrader
    ("something else", "", False, False),
])
def test_autograding_and_fast_mode(monkeypatch, execution, forced, autograding, fast):
    monkeypatch.setenv("NBGRADER_EXECUTION", execution)
    monkeypatch.setenv(config.FAST_MODE_VARIABLE, forced)
    assert config.autograding() is autograding
    assert config.fast_mode() is fast


def test_data_dir_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(config.DATA_DIR_VARIABLE, str(tmp_path / "cache"))
    assert config.data_dir() == (tmp_path / "cache").resolve() and (tmp_path / "cache").is_dir()
