"""The README's Python example runs as written, against a real index and the real LLM."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)


def test_readme_has_the_python_example():
    code = "\n".join(_python_blocks())
    assert "Assistant.load()" in code and "a.retriever" in code and "as_runnable()" in code


@pytest.mark.llm
def test_readme_python_example_runs(built_index, tmp_path, monkeypatch, capsys):
    # The example opens ./index, as a user in the project folder would.
    shutil.copytree(built_index.index_dir, tmp_path / "index")
    shutil.copytree(built_index.corpus_dir, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("RAG_") and v != "RAG_CACHE_DIR"]:
        monkeypatch.delenv(var)
    namespace: dict = {}
    for block in _python_blocks():
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    ans, follow = namespace["ans"], namespace["follow"]
    assert not ans.refused and ans.citations, ans.raw_answer
    assert namespace["docs"] and namespace["docs"][0].metadata["title"]
    assert follow.standalone_question != "And how long did that take?"  # rewritten from the history
    assert capsys.readouterr().out.strip()
