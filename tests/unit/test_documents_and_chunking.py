"""Loaders for md, txt, html and pdf, and markdown-aware chunking sized for MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunking import MAX_WORDS, chunk_document, split_units
from knowledge.documents import iter_source_files, load_document

ARTICLES = Path(__file__).resolve().parents[2] / "knowledge" / "articles"


def test_markdown_front_matter_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\nid: roles\ntitle: Roles\nurl: https://example.org/roles\n---\n"
                    "Intro line that is long enough.\n\n## Engine\nML builds the engine.\n\n### Detail\nMath.\n")
    doc = load_document(path)
    assert (doc.doc_id, doc.title, doc.url) == ("roles", "Roles", "https://example.org/roles")
    assert [b.heading for b in doc.blocks] == ["", "Engine", "Engine > Detail"]


def test_plain_text_headings_and_bylines_stay_searchable(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("Skip to main content\n\nA Talk About Careers\nJane Doe March 2025\nKey Points\n"
                    "- Engineers integrate models into apps.\n- Ship and iterate.\n")
    doc = load_document(path)
    assert doc.title == "A Talk About Careers"
    chunks = chunk_document(doc)
    assert any("Jane Doe" in c.text for c in chunks)
    assert all("Skip to main content" not in c.text for c in chunks)


def test_html_and_pdf_are_loaded(tmp_path: Path) -> None:
    html = tmp_path / "p.html"
    html.write_text("<html><head><title>Page</title><script>var x=1</script></head><body><h2>Pay</h2>"
                    "<p>Total compensation can reach $700,000.</p><ul><li>One item here</li></ul></body></html>")
    doc = load_document(html)
    assert doc.title == "Page" and "var x" not in " ".join(b.text for b in doc.blocks)
    assert any("$700,000" in b.text and b.heading == "Pay" for b in doc.blocks)

    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(_minimal_pdf("Recall of 80 percent matters for fraud detection."))
    text = " ".join(b.text for b in load_document(pdf).blocks)
    assert "fraud detection" in text
    assert [p.name for p in iter_source_files(tmp_path)] == ["d.pdf", "p.html"]


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with real text (Helvetica), written by hand so no PDF writer is needed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_garbage_bytes_do_not_break_loading(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\x00 valid words follow here in this line.\n")
    assert load_document(path).blocks


@pytest.mark.parametrize("path", sorted(ARTICLES.glob("*.md")), ids=lambda p: p.stem)
def test_every_article_chunk_fits_the_model(path: Path) -> None:
    doc = load_document(path)
    assert doc.title and doc.doc_id == path.stem, "front matter needs id and title"
    assert "source" in doc.meta, "articles name their source"
    for chunk in chunk_document(doc):
        # all-MiniLM-L6-v2 reads 256 word pieces; ~1.5 pieces per word leaves room for the header.
        assert len(chunk.body.split()) <= MAX_WORDS
        assert len(chunk.text.split()) <= 170


def test_split_units_keeps_sentences_and_list_items() -> None:
    assert split_units("One two three four. Five six seven eight.\n- nine ten eleven twelve") == [
        "One two three four.", "Five six seven eight.", "- nine ten eleven twelve"]
