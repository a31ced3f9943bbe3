import pytest

from rag.chunking import chunk_text, sections


def words(text: str) -> int:
    return len(text.split())


TEXT = (
    "Intro paragraph before any heading.\n\n"
    "## Skills\n\n" + " ".join(f"skill{i}." for i in range(120)) + "\n\n"
    "### Statistics\n\nLearn basic statistics and evaluation metrics.\n\n"
    "## Monitoring\n\nMonitoring is not optional.\n"
)


def test_sections_carry_heading_paths():
    heads = [s.heading for s in sections(TEXT)]
    assert heads == ["", "Skills", "Skills > Statistics", "Monitoring"]


def test_chunks_are_exact_slices_bounded_and_overlapping():
    chunks = chunk_text("d.md", TEXT, words, chunk_tokens=30, overlap_tokens=5)
    assert all(TEXT[c.start : c.end] == c.text for c in chunks)
    assert all(words(c.text) <= 30 for c in chunks)
    skills = [c for c in chunks if c.heading == "Skills"]
    assert len(skills) >= 4
    # overlap: consecutive chunks of one section share text
    assert skills[1].start < skills[0].end
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].heading == "Monitoring"


def test_no_chunk_crosses_a_heading():
    chunks = chunk_text("d.md", TEXT, words, chunk_tokens=200, overlap_tokens=10)
    assert not any("##" in c.text for c in chunks)


def test_invalid_settings_raise_value_error():
    with pytest.raises(ValueError):
        chunk_text("d", TEXT, words, chunk_tokens=20, overlap_tokens=20)
