"""A student may reword every printed label of an exercise: the grading run stays green.

In a copy of the repository, every string literal printed by ``print(...)`` in ``exercises/*.py`` has each of
its words spelled backwards ("sample rate:" becomes "elpmas etar:"), while the values it prints (the
``{placeholders}`` of f-strings) stay as they are. Then ``pytest -m grading`` runs there: the checkpoints read
what ``main(argv)`` returns and the files written, never the wording, so every one of them still passes.
"""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT
from test_planted_bugs import copy_repo, grade_line, run_pytest

WORD = re.compile(r"[A-Za-z]{2,}")


def reworded(text: str) -> str:
    return WORD.sub(lambda word: word.group()[::-1], text)


class Reword(ast.NodeTransformer):
    """Rewords the literal text of each print() argument; expressions inside ``{}`` are left alone."""

    def __init__(self):
        self.changed = 0

    def literal(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, str) and reworded(node.value) != node.value:
            self.changed += 1
            return ast.copy_location(ast.Constant(reworded(node.value)), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            node.args = [self.text(arg) for arg in node.args]
        return node

    def text(self, node: ast.expr) -> ast.expr:
        """A printed expression: a literal, an f-string, or ``a if condition else b`` of those."""
        if isinstance(node, ast.Constant):
            return self.literal(node)
        if isinstance(node, ast.IfExp):  # {'yes' if ... else 'NO'}: both branches are printed
            node.body, node.orelse = self.text(node.body), self.text(node.orelse)
        elif isinstance(node, ast.JoinedStr):  # f"...": reword the literal parts, keep the values and formats
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    part.value = self.text(part.value) if isinstance(part.value, ast.IfExp) else part.value
            node.values = [self.literal(part) if isinstance(part, ast.Constant) else part for part in node.values]
        return node


def reword_exercises(folder) -> dict[str, int]:
    """Rewrite each exercise in ``folder`` with reworded print labels; how many literals changed per file."""
    changed = {}
    for path in sorted((folder / "exercises").glob("*.py")):
        rewording = Reword()
        tree = rewording.visit(ast.parse(path.read_text()))
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n")
        changed[path.name] = rewording.changed
    return changed


def test_rewording_changes_the_printed_labels_only(tmp_path):
    """Quick: the rewording touches print() labels, keeps the f-strings' values, and the code still compiles."""
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "demo.py").write_text(
        """x = "sample rate"\nprint(f"  sample rate:  {rate} Hz ({x!r:>8}) {'yes' if ok else 'no'}", "done")\n""")
    assert reword_exercises(tmp_path) == {"demo.py": 5}
    expected = "x = 'sample rate'\nprint(f\"  elpmas etar:  {rate} zH ({x!r:>8}) {('sey' if ok else 'on')}\", 'enod')\n"
    # the same program (ast.unparse picks its quotes differently from Python 3.12 on)
    assert ast.dump(ast.parse((tmp_path / "exercises" / "demo.py").read_text())) == ast.dump(ast.parse(expected))


@pytest.mark.slow
def test_grading_stays_green_when_every_printed_label_is_reworded(tmp_path):
    folder = copy_repo(tmp_path / "repo")
    changed = reword_exercises(folder)
    for name in ("explore_audio.py", "explore_hubert.py", "count_params.py"):
        assert changed[name] >= 8, f"{name}: only {changed[name]} printed labels reworded"
    audio = (folder / "exercises" / "explore_audio.py").read_text()
    assert "sample rate:" not in audio and "elpmas etar:" in audio  # the labels really changed

    # Every graded check but the full-size HuBERT-XLarge run (slow; it reads main()'s return value alike)
    result = run_pytest(folder, "-q", "-m", "grading and not slow")
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, "a checkpoint depends on the wording of a printed line"
    for title in ("Exercise 1", "Exercise 2", "Exercise 3"):
        line = grade_line(output, title)
        assert line and "failed" not in line, line
        done, total = re.search(r"(\d+)/(\d+) checks passed", line).groups()
        assert done == total, line
