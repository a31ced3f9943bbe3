"""`pmrag` run as a real subprocess, as a user would."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pmrag(*args: str, cwd: Path, env_extra: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, cache_dir) -> Path:
    """A folder with corpus/ and an index built by `pmrag index --json`."""
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copytree(REPO / "corpus", tmp / "corpus")
    return tmp


@pytest.fixture(scope="module")
def env(cache_dir) -> dict:
    return {"RAG_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(REPO)}


def test_index_json_then_up_to_date(workdir, env):
    done = pmrag("index", "--json", cwd=workdir, env_extra=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"added", "changed", "removed", "failed", "documents", "chunks", "seconds"}
    assert len(report["added"]) == 5 and report["documents"] == 5 and report["chunks"] > 0
    again = json.loads(pmrag("index", "--json", cwd=workdir, env_extra=env).stdout)
    assert again["added"] == again["changed"] == again["removed"] == []


def test_index_paths_copies_and_reports_failures(workdir, env, tmp_path):
    good = tmp_path / "okrs.md"
    good.write_text("# OKRs for ML teams\n\nSet OKRs on outcomes such as fewer support tickets, not on model accuracy alone.\n")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    done = pmrag("index", str(good), str(bad), "--json", cwd=workdir, env_extra=env)
    assert done.returncode == 1  # a file failed
    report = json.loads(done.stdout)
    assert report["added"] == ["okrs.md"]
    assert [f["path"] for f in report["failed"]] == ["empty.txt"] and "empty" in report["failed"][0]["reason"]
    assert (workdir / "corpus" / "okrs.md").exists()
    (workdir / "corpus" / "okrs.md").unlink()
    (workdir / "corpus" / "empty.txt").unlink()
    report = json.loads(pmrag("index", "--json", cwd=workdir, env_extra=env).stdout)
    assert report["removed"] == ["okrs.md"]


@pytest.mark.llm
def test_ask_json_schema_with_the_real_llm(workdir, env):
    pmrag("index", cwd=workdir, env_extra=env)
    done = pmrag("ask", "What should a PM learn before working with data scientists?", "--json",
                 cwd=workdir, env_extra=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)  # exactly one JSON object on stdout
    assert set(out) >= {"question", "answer", "refused", "citations", "timings", "index_generation"}
    assert set(out["timings"]) >= {"retrieve_ms", "generate_ms"}
    assert out["index_generation"] == (workdir / "index" / "CURRENT").read_text().strip()
    texts = {p.name: None for p in (workdir / "corpus").iterdir()}
    for c in out["citations"]:
        assert set(c) >= {"n", "doc_id", "title", "source", "heading", "start", "end", "text", "score"}
        assert c["doc_id"] in texts
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", out["answer"])}
    assert markers <= {c["n"] for c in out["citations"]}
    if not out["refused"]:
        assert out["citations"]
    # Without --json: while the model reads, stderr names the articles; stdout has the answer.
    done = pmrag("ask", "Why is monitoring important for ML products?", cwd=workdir, env_extra=env)
    assert done.returncode == 0, done.stderr
    assert "Reading 4 passages from “" in done.stderr and "Sources:" in done.stdout, (done.stderr, done.stdout)


def test_eval_answers_builds_the_index_a_clean_clone_lacks(tmp_path, env):
    """The issue's "runs from a clean clone": there is no index/ until something builds it."""
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "u1", "question": "What is the capital of Australia?", "answer": None}) + "\n")
    done = pmrag("eval", "answers", "--qa", str(qa), "--json", cwd=tmp_path, env_extra=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["refusal_rate_unanswerable"] == 1.0
    assert "no index yet: building it" in done.stderr and (tmp_path / "index" / "CURRENT").exists()


def test_ask_without_index_explains_how_to_build(tmp_path, env):
    done = pmrag("ask", "anything", cwd=tmp_path, env_extra=env)
    assert done.returncode == 2 and "pmrag index" in done.stderr


def test_empty_question_is_rejected(workdir, env):
    done = pmrag("ask", "  ", cwd=workdir, env_extra=env)
    assert done.returncode == 2 and "empty" in done.stderr


def test_config_masks_secrets(tmp_path, env):
    done = pmrag("config", cwd=tmp_path, env_extra=dict(env, RAG_LLM_API_KEY="sk-very-secret"))
    assert done.returncode == 0
    assert "sk-very-secret" not in done.stdout and json.loads(done.stdout)["llm_api_key"] == "****"


def test_eval_answers_scores_a_qa_file_and_names_quotes_the_index_lacks(workdir, env, tmp_path):
    """Off-corpus questions are refused by the relevance gate, so no LLM runs; a gold quote the
    articles do not contain is reported by item on stderr instead of silently scoring zero."""
    pmrag("index", cwd=workdir, env_extra=env)
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(row) for row in [
        {"id": "u1", "question": "What is the capital of Australia?", "answer": None},
        {"id": "a1", "question": "How long should sourdough bread proof overnight?", "answer": "12 hours",
         "must_include": ["12 hours"],
         "evidence": [{"doc": "002_e188c91f473f437b.txt",  # the seed's name: mapped to corpus/
                       "quote": "You don't actually manage anyone,\nunless you are the lead"},
                      {"doc": "sprint-2-do-what-you-do.md", "quote": "sourdough proofs for 12 hours"}]},
    ]) + "\n")
    done = pmrag("eval", "answers", "--qa", str(qa), "--json", cwd=workdir, env_extra=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["refusal_rate_unanswerable"] == 1.0 and report["false_refusal_rate"] == 1.0
    assert report["items"] == 2 and report["key_fact_recall"] == 0.0
    assert "a1: evidence quote not found in sprint-2-do-what-you-do.md" in done.stderr
    assert "002_e188c91f473f437b.txt" not in done.stderr  # the seed's quote was found
