"""A grade summary at the end of a pytest run: one line per exercise, as a grader pastes it into feedback.

    poetry run pytest -m grading

    =============================== Grade summary ================================
    Exercise 1 (explore_audio.py): 2/3 checks passed; failed: the normalised waveform is centred on 0
    Homework (homework/homework_2.py): 2/5 tasks done, 1 not attempted yet (skipped): Task 3: ...; failed: ...

How a test joins the summary:
- its **group** is a marker: ``exercise1``, ``exercise2``, ``exercise3``, ``bonus`` or ``homework`` (on the
  function, its class or the module's ``pytestmark``). Every test with a group marker also gets the
  ``grading`` marker here, so ``-m grading`` selects them all;
- its **name** is the argument of ``@pytest.mark.checkpoint("the picture exists")`` if it has one, else the
  first line of its docstring, else its function name without ``test_`` and underscores. Checks of one group
  that share a name (a parametrized test) are told apart by their parameter id;
- its **outcome**: passed; failed (a failure or an error in any phase); skipped = not attempted yet
  (``pytest.skip`` or a skip marker); an expected failure (xfail) counts as passed. A selected check that
  never ran (``-x`` stopped the session early) is counted as "not run".

When ``-m`` selects graded checks (``grading``, ``grading and not slow``, ``exercise1``, ...), a test module
that fails to import (a student's exercise with a syntax error, imported at the top of the module) no longer
interrupts the run: the other checks still run, and the broken exercise's checkpoints fail with the error.

Nothing is printed when no graded test ran. Loaded from ``tests/conftest.py`` with
``pytest_plugins = ["grading_plugin"]``. Each run registers its own `GradeBook`, so one process can hold
several runs (pytester's in-process runs do).
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from dataclasses import dataclass

import pytest

# group marker -> (title, the student's file, what the passing tests are called)
GROUPS = {
    "exercise1": ("Exercise 1", "explore_audio.py", "checks passed"),
    "exercise2": ("Exercise 2", "explore_hubert.py", "checks passed"),
    "exercise3": ("Exercise 3", "count_params.py", "checks passed"),
    "bonus": ("Bonus", "hidden_units.py", "checks passed"),
    "homework": ("Homework", "homework/homework_2.py", "tasks done"),
}
MARKERS = {  # also registered here (when missing), so the plugin works with --strict-markers anywhere
    **{group: f"a graded check of {title} ({file})" for group, (title, file, _) in GROUPS.items()},
    "grading": "added automatically to every test with a group marker (exercise1..3, bonus, homework)",
    "checkpoint(name)": "the human name the grade summary gives this check",
}


@dataclass
class Check:
    """One graded test: its groups, its human name, and its outcome once it has run."""

    groups: list[str]
    name: str
    param_id: str | None  # a parametrized test's id, shown only when names repeat
    outcome: str | None = None  # "passed", "failed" or "skipped"; None: selected but never ran


def checkpoint_name(item: pytest.Item) -> str:
    """The checkpoint marker's argument, else the docstring's first line, else the function name."""
    marker = item.get_closest_marker("checkpoint")
    if marker is not None and (marker.args or "name" in marker.kwargs):
        return str(marker.args[0] if marker.args else marker.kwargs["name"])
    doc = inspect.getdoc(getattr(item, "obj", None))
    if doc and doc.strip():
        return doc.strip().splitlines()[0].strip().rstrip(".")
    name = getattr(item, "originalname", None) or item.name
    return name.removeprefix("test_").replace("_", " ")


def selects_graded_checks(markexpr: str) -> bool:
    """Whether ``-m markexpr`` selects graded tests: true for a test marked ``grading`` and one group.
    ``"grading and not slow"`` and ``"exercise1"`` do; ``"not grading"`` and ``""`` (no -m) do not."""
    for group in GROUPS:
        on = {"grading", group}
        python = re.sub(r"\b(?!(?:and|or|not)\b)[A-Za-z_][\w.]*", lambda m: str(m.group() in on), markexpr)
        try:
            if markexpr.strip() and eval(python, {"__builtins__": {}}, {}):  # only True/False/and/or/not/()
                return True
        except Exception:  # marker arguments, e.g. -m "mark(x=1)": not a grading run
            return False
    return False


def pytest_configure(config: pytest.Config) -> None:
    if selects_graded_checks(config.option.markexpr or ""):
        # Grading a student's copy: a test file that cannot even be imported (the student's exercise has a
        # syntax error and a test module imports it) must not stop every other check from running.
        config.option.continue_on_collection_errors = True
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for marker, help_text in MARKERS.items():
        if marker.split("(")[0] not in known:
            config.addinivalue_line("markers", f"{marker}: {help_text}")
    config.pluginmanager.register(GradeBook(), "grade-book")


class GradeBook:
    """The run's graded checks, by node id in collection order, and the summary they make."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    @pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m grading` sees the marker added here
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            groups = [group for group in GROUPS if item.get_closest_marker(group) is not None]
            if groups:
                item.add_marker("grading")
                callspec = getattr(item, "callspec", None)
                self.checks[item.nodeid] = Check(groups, checkpoint_name(item), callspec.id if callspec else None)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.checks.pop(item.nodeid, None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold each phase (setup, call, teardown) into the check's outcome: failed > skipped > passed."""
        check = self.checks.get(report.nodeid)
        if check is None or check.outcome == "failed":
            return
        if report.failed:
            check.outcome = "failed"
        elif report.skipped:
            check.outcome = "passed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call" and check.outcome is None:
            check.outcome = "passed"

    def summary_lines(self) -> list[tuple[str, str]]:
        """(line, colour) for each group with checks; [] when no graded check ran."""
        if not any(check.outcome for check in self.checks.values()):
            return []
        lines = []
        for group, (title, file, passed_words) in GROUPS.items():
            checks = [check for check in self.checks.values() if group in check.groups]
            if checks:
                lines.append(group_line(f"{title} ({file})", passed_words, checks))
        return lines

    # The wrapper that runs first is the outermost: the code after its `yield` runs after pytest's own
    # summaries (failures, "short test summary info"), so the grades sit just above the final count line.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter):
        result = yield
        lines = self.summary_lines()
        if lines:
            terminalreporter.write_sep("=", "Grade summary")
            for line, colour in lines:
                terminalreporter.write_line(line, **{colour: True})
        return result


def group_line(title: str, passed_words: str, checks: list[Check]) -> tuple[str, str]:
    """``Exercise 1 (explore_audio.py): 2/3 checks passed; failed: the picture exists``, and its colour."""
    repeated = Counter(check.name for check in checks)

    def names(outcome: str) -> list[str]:
        return [f"{c.name} [{c.param_id}]" if repeated[c.name] > 1 and c.param_id else c.name
                for c in checks if c.outcome == outcome]

    passed, failed, skipped = names("passed"), names("failed"), names("skipped")
    not_run = sum(check.outcome is None for check in checks)
    line = f"{title}: {len(passed)}/{len(checks)} {passed_words}"
    if skipped:
        line += f", {len(skipped)} not attempted yet (skipped): {', '.join(skipped)}"
    if not_run:
        line += f", {not_run} not run"
    if failed:
        line += f"; failed: {', '.join(failed)}"
    colour = "red" if failed else "green" if len(passed) == len(checks) else "yellow"
    return line, colour
