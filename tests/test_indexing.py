import json
import shutil

from rag.indexing import index_is_current, update_index
from rag.store import FaissStore


def test_full_build_of_the_real_corpus(corpus_settings, embedder):
    report = update_index(corpus_settings, embedder)
    assert len(report.added) == 5 and not report.failed
    assert report.documents == 5 and report.chunks > 20
    data = FaissStore(corpus_settings.index_dir).load()
    for c in data.chunks:
        assert data.articles[c.doc_id].text[c.start : c.end] == c.text
        assert embedder.count_tokens(c.text) <= corpus_settings.chunk_tokens
    assert index_is_current(corpus_settings)


def test_incremental_add_change_remove(corpus_settings, embedder):
    update_index(corpus_settings, embedder)
    corpus = corpus_settings.corpus_dir
    (corpus / "new.md").write_text("---\ntitle: Pricing experiments\n---\nRun pricing experiments on a small cohort first.\n")
    changed = corpus / "sprint-2-do-what-you-do.md"
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about QA handoffs.\n")
    (corpus / "becoming-a-more-technical-product-manager.md").unlink()
    assert not index_is_current(corpus_settings)
    report = update_index(corpus_settings, embedder)
    assert report.added == ["new.md"]
    assert report.changed == ["sprint-2-do-what-you-do.md"]
    assert report.removed == ["becoming-a-more-technical-product-manager.md"]
    data = FaissStore(corpus_settings.index_dir).load()
    assert "becoming-a-more-technical-product-manager.md" not in {c.doc_id for c in data.chunks}
    assert any("QA handoffs" in c.text for c in data.chunks)
    # only the new and changed articles were chunked and embedded again
    assert report.embedded_chunks < report.chunks / 2


def test_a_new_duplicate_never_displaces_the_indexed_article(corpus_settings, embedder):
    update_index(corpus_settings, embedder)
    corpus = corpus_settings.corpus_dir
    shutil.copy(corpus / "sprint-2-do-what-you-do.md", corpus / "a-copy.md")
    report = update_index(corpus_settings, embedder)
    assert [f.path for f in report.failed] == ["a-copy.md"]
    assert report.removed == [] and report.added == []


def test_nothing_changed_writes_no_new_generation(corpus_settings, embedder):
    update_index(corpus_settings, embedder)
    gen = FaissStore(corpus_settings.index_dir).current_generation()
    report = update_index(corpus_settings, embedder)
    assert report.added == report.changed == report.removed == [] and report.embedded_chunks == 0
    assert FaissStore(corpus_settings.index_dir).current_generation() == gen


def test_changed_chunk_settings_force_a_full_rebuild_and_say_why(corpus_settings, embedder):
    update_index(corpus_settings, embedder)
    other = corpus_settings.model_copy(update={"chunk_tokens": 96})
    report = update_index(other, embedder)
    assert "chunk_tokens" in report.full_rebuild_reason
    assert len(report.added) == 5


def test_bad_files_are_reported_and_good_ones_indexed(corpus_settings, embedder, tmp_path):
    corpus = corpus_settings.corpus_dir
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "image.png").write_bytes(b"\x89PNG....")
    (corpus / "binary.md").write_bytes(bytes(range(256)) * 4)
    shutil.copy(corpus / "sprint-2-do-what-you-do.md", corpus / "copy-of-sprint-2.md")
    outside = tmp_path / "outside.md"
    outside.write_text("secret outside the corpus")
    (corpus / "link.md").symlink_to(outside)
    before = {p.name: p.read_bytes() for p in corpus.iterdir() if not p.is_symlink()}
    report = update_index(corpus_settings, embedder)
    reasons = {f.path: f.reason for f in report.failed}
    assert "empty file" in reasons["empty.md"]
    assert "unsupported" in reasons["image.png"]
    assert "binary" in reasons["binary.md"]
    assert "outside the corpus" in reasons["link.md"]
    dup = reasons.get("copy-of-sprint-2.md", "") + reasons.get("sprint-2-do-what-you-do.md", "")
    assert "same content as" in dup
    assert report.documents == 5
    after = {p.name: p.read_bytes() for p in corpus.iterdir() if not p.is_symlink()}
    assert before == after  # nothing in the corpus was altered or lost
    data = FaissStore(corpus_settings.index_dir).load()
    assert "secret outside" not in json.dumps([c.text for c in data.chunks])
