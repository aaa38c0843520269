"""The README's Python snippet runs as written (PettingZoo's doc_examples_test habit)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python snippet"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_readme_first_screen_has_the_two_commands():
    head = README.read_text().splitlines()[:20]
    cmds = [line for line in head if line.startswith("python3 tasks.py")]
    assert [c.split("#")[0].strip() for c in cmds] == ["python3 tasks.py demo", "python3 tasks.py test"]
