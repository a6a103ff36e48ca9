"""The grade summary (tests/grading_plugin.py) on small synthetic suites, run in-process by pytester."""

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import pytest

@pytest.mark.exercise1
def test_script_ran():
    """The script ran without an error.

    More detail that the summary leaves out.
    """

@pytest.mark.exercise1
@pytest.mark.checkpoint("the normalised waveform is centred on 0")
def test_centred():
    """A docstring the checkpoint marker overrides."""
    assert 0.3 == 0

@pytest.mark.exercise1
def test_the_picture_exists():
    assert False

@pytest.mark.homework
@pytest.mark.checkpoint("Task 1: frame count")
def test_task1():
    pass

@pytest.mark.homework
@pytest.mark.checkpoint("Task 2: z-normalisation")
def test_task2():
    pytest.skip("Task 2 not attempted yet")

@pytest.mark.homework
@pytest.mark.checkpoint("Task 3: stacking")
def test_task3():
    assert False, "expected 30 steps, got 29"

def test_not_graded():
    pass
'''


@pytest.fixture
def suite(pytester):
    """A project like this one: the plugin loaded by one line of conftest.py, the synthetic tests beside it."""
    pytester.makeconftest('pytest_plugins = ["grading_plugin"]')
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def grade_lines(result) -> list[str]:
    """The lines under the "Grade summary" header, up to the next separator line."""
    lines = result.outlines
    header = [i for i, line in enumerate(lines) if "Grade summary" in line]
    assert len(header) == 1, "\n".join(lines)
    grades = []
    for line in lines[header[0] + 1:]:
        if line.startswith(("===", "!!!")):
            break
        grades.append(line)
    return grades


def test_one_line_per_group_with_counts_and_failed_names(suite):
    result = suite.runpytest("-m", "grading")
    result.assert_outcomes(passed=2, failed=3, skipped=1, deselected=1)
    assert grade_lines(result) == [
        "Exercise 1 (explore_audio.py): 1/3 checks passed; failed: the normalised waveform is centred on 0, "
        "the picture exists",
        "Homework (homework/homework_2.py): 1/3 tasks done, 1 not attempted yet (skipped): "
        "Task 2: z-normalisation; failed: Task 3: stacking",
    ]


def test_summary_is_the_last_thing_before_the_final_count(suite):
    result = suite.runpytest("-m", "grading", "-ra")
    lines = result.outlines
    header = next(i for i, line in enumerate(lines) if "Grade summary" in line)
    assert any("short test summary info" in line for line in lines[:header])
    assert lines[header + 3].startswith("=") and "passed" in lines[header + 3]
    assert header + 4 == len(lines)


def test_grading_marker_selects_exactly_the_grouped_tests(suite):
    assert suite.runpytest("-m", "grading", "--co", "-q").outlines[:6] == [
        f"test_suite.py::test_{name}"
        for name in ("script_ran", "centred", "the_picture_exists", "task1", "task2", "task3")
    ]
    suite.runpytest("-m", "not grading").assert_outcomes(passed=1, deselected=6)


def test_nothing_extra_when_no_graded_test_ran(suite):
    for args in (["-m", "not grading"], ["-k", "not_graded"], ["-m", "grading", "--co"]):
        result = suite.runpytest(*args)
        assert "Grade summary" not in result.stdout.str(), args


def test_a_full_run_grades_too(suite):
    result = suite.runpytest()
    result.assert_outcomes(passed=3, failed=3, skipped=1)
    assert grade_lines(result)[1].startswith("Homework (homework/homework_2.py): 1/3 tasks done")


def test_deselected_checks_do_not_count(suite):
    result = suite.runpytest("-m", "grading", "-k", "task")
    assert grade_lines(result) == [
        "Homework (homework/homework_2.py): 1/3 tasks done, 1 not attempted yet (skipped): "
        "Task 2: z-normalisation; failed: Task 3: stacking",
    ]


def test_checks_that_never_ran_are_counted_as_not_run(suite):
    result = suite.runpytest("-m", "grading", "-x")  # stops at the first failure, test_centred
    assert grade_lines(result) == [
        "Exercise 1 (explore_audio.py): 1/3 checks passed, 1 not run; failed: "
        "the normalised waveform is centred on 0",
        "Homework (homework/homework_2.py): 0/3 tasks done, 3 not run",
    ]


def test_names_outcomes_and_groups_from_every_kind_of_test(pytester):
    pytester.makeconftest('pytest_plugins = ["grading_plugin"]')
    pytester.makepyfile(test_kinds='''
        import pytest

        pytestmark = pytest.mark.exercise2  # a module-level marker groups every test in the file

        @pytest.fixture
        def broken():
            raise RuntimeError("no weights")

        def test_setup_error_counts_as_failed(broken):
            """the output has 1280 features"""

        @pytest.mark.parametrize("n", [1, 2])
        def test_parametrized(n):
            """one frame per 20 ms"""
            assert n == 1

        @pytest.mark.skip(reason="needs the bonus file")
        def test_skip_marker_is_not_attempted():
            pass

        @pytest.mark.xfail(reason="known")
        def test_expected_failure_passes():
            assert False

        class TestInAClass:
            @pytest.mark.checkpoint(name="saw [1, 149, 1280]")
            def test_method(self):
                pass

        @pytest.mark.bonus
        def test_also_a_bonus_check():
            """hidden units are cluster ids."""
    ''')
    result = pytester.runpytest("-m", "grading", "--strict-markers")
    result.assert_outcomes(passed=3, failed=1, errors=1, skipped=1, xfailed=1)
    assert grade_lines(result) == [
        "Exercise 2 (explore_hubert.py): 4/7 checks passed, 1 not attempted yet (skipped): "
        "skip marker is not attempted; failed: the output has 1280 features, one frame per 20 ms [2]",
        "Bonus (hidden_units.py): 1/1 checks passed",
    ]


def test_markers_are_registered_in_pyproject(request):
    registered = {line.split(":")[0].split("(")[0] for line in request.config.getini("markers")}
    assert {"grading", "exercise1", "exercise2", "exercise3", "bonus", "homework", "checkpoint"} <= registered


def test_a_module_that_cannot_be_imported_does_not_stop_grading(suite):
    """A student's syntax error breaks the import of a test module: with -m grading the other checks still
    run and the summary is printed; without it pytest stops at the collection error, as usual."""
    suite.makepyfile(test_broken="import this_module_does_not_exist\n")
    result = suite.runpytest("-m", "grading")
    result.assert_outcomes(passed=2, failed=3, skipped=1, deselected=1, errors=1)
    assert grade_lines(result)[0].startswith("Exercise 1 (explore_audio.py): 1/3 checks passed")
    interrupted = suite.runpytest("-m", "not grading")
    interrupted.assert_outcomes(errors=1)
    assert "Interrupted: 1 error during collection" in interrupted.stdout.str()


@pytest.mark.parametrize("markexpr, graded", [
    ("grading", True), ("grading and not slow", True), ("exercise1", True), ("exercise1 or exercise2", True),
    ("(homework)", True), ("not grading", False), ("slow", False), ("", False), ("exercise1 and not grading", False),
])
def test_which_mark_expressions_are_grading_runs(markexpr, graded):
    from grading_plugin import selects_graded_checks

    assert selects_graded_checks(markexpr) is graded
