"""Adding files to the corpus folder: names from untrusted input, no overwrites."""

from pathlib import Path

from rag.corpus_files import add_files, safe_name


def test_safe_name_blocks_traversal():
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("..\\..\\win.txt") == "win.txt"
    assert safe_name("My Notes (final).MD") == "My-Notes-final.md"
    assert "/" not in safe_name("/abs/path/x.pdf")


def test_add_files_never_overwrites_another_article(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("original")
    src = tmp_path / "a.md"
    src.write_text("different content")
    copied, failed = add_files([src], corpus)
    assert copied == ["a-2.md"] and not failed
    assert (corpus / "a.md").read_text() == "original"
    copied, _ = add_files([src], corpus)  # identical file already present: not copied twice
    assert copied == ["a-2.md"] and len(list(corpus.iterdir())) == 2
    evil = tmp_path / "evil.md"
    evil.write_text("x")
    copied, _ = add_files([evil], corpus, original_names=["../../../../tmp/evil.md"])
    assert copied == ["evil.md"] and (corpus / "evil.md").exists()
