"""Loading source files (md, txt, html, pdf) into sections that the chunker can pack.

Why sections: every format is reduced to the same shape, a titled document made of (heading,
paragraph) blocks, so chunking and citation work the same whatever an admin points
`careerbot index build --source DIR` at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.yamlfile import safe_load as load_yaml

__all__ = ["SUPPORTED_SUFFIXES", "Block", "SourceDocument", "iter_source_files", "load_document", "split_front_matter"]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_BOILERPLATE = re.compile(r"^(skip to (main )?content|menu|sign in|log in|subscribe|share|home)$", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """A paragraph, list item group or table under the heading path it belongs to."""

    heading: str
    text: str


@dataclass
class SourceDocument:
    """One loaded file: metadata for citations plus its blocks in reading order."""

    doc_id: str
    title: str
    url: str
    path: str
    blocks: list[Block]
    meta: dict[str, object] = field(default_factory=dict)


def iter_source_files(folder: Path) -> list[Path]:
    """Supported files under `folder`, sorted so builds are reproducible."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_document(path: Path) -> SourceDocument:
    """Load any supported file; unreadable bytes are replaced rather than failing the build."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _from_plain_text(path, _pdf_text(path))
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if suffix in (".md", ".markdown"):
        return _from_markdown(path, raw)
    if suffix in (".html", ".htm"):
        return _from_html(path, raw)
    return _from_plain_text(path, raw)


def split_front_matter(raw: str) -> tuple[dict[str, object], str]:
    """A markdown file's YAML front matter (empty when missing or malformed) and the body after it."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        loaded = load_yaml(match.group(1))
    except yaml.YAMLError:
        loaded = None
    return (loaded if isinstance(loaded, dict) else {}), raw[match.end():]


def _from_markdown(path: Path, raw: str) -> SourceDocument:
    meta, raw = split_front_matter(raw)
    title = str(meta.get("title") or "")
    blocks: list[Block] = []
    path_stack: list[tuple[int, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        text = "\n".join(paragraph).strip()
        paragraph.clear()
        if text:
            heading = " > ".join(h for _, h in path_stack)
            blocks.append(Block(heading=heading, text=text))

    in_fence = False
    for line in raw.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
            paragraph.append(line)
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            flush()
            level, text = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and not title:
                title = text
                continue
            path_stack[:] = [(lvl, h) for lvl, h in path_stack if lvl < level]
            path_stack.append((level, text))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.rstrip())
    flush()
    return SourceDocument(
        doc_id=str(meta.get("id") or path.stem),
        title=title or _title_from_name(path),
        url=str(meta.get("url") or ""),
        path=str(path),
        blocks=_merge_list_items(blocks),
        meta=meta,
    )


def _merge_list_items(blocks: list[Block]) -> list[Block]:
    """Keep a lead-in sentence with the list that follows it under the same heading."""
    merged: list[Block] = []
    for block in blocks:
        starts_list = block.text.lstrip().startswith(("- ", "* ", "1.", "|"))
        if merged and starts_list and merged[-1].heading == block.heading and merged[-1].text.rstrip().endswith(":"):
            merged[-1] = Block(block.heading, merged[-1].text + "\n" + block.text)
        else:
            merged.append(block)
    return merged


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not words or len(words) > 9:
        return False
    return not line.rstrip().endswith((".", ",", ";", ":", "!", "?")) and not line.lstrip().startswith(
        ("-", "•", "*")
    )


def _from_plain_text(path: Path, raw: str) -> SourceDocument:
    lines = [ln.strip() for ln in raw.replace("\r\n", "\n").splitlines()]
    # The first line that reads like a title, skipping web-page boilerplate ("Skip to main content").
    first = next((ln for ln in lines if ln and not _BOILERPLATE.match(ln)), "")
    title = first if _looks_like_heading(first) else _title_from_name(path)
    blocks: list[Block] = []
    heading = ""
    paragraph: list[str] = []

    def flush() -> None:
        text = "\n".join(paragraph).strip()
        paragraph.clear()
        if text:
            blocks.append(Block(heading=heading, text=text))

    pending_heading = False  # the current heading has no text under it yet
    for line in lines:
        if line == title or _BOILERPLATE.match(line):
            continue
        if not line:
            flush()
        elif _looks_like_heading(line):
            flush()
            if pending_heading:
                # Two heading-like lines in a row: the first carried no section, so it is text
                # (a byline such as "Chip Huyen, December 1, 2025" must stay searchable).
                blocks.append(Block(heading=heading, text=heading))
            heading = line
            pending_heading = True
        else:
            # Plain text often has one paragraph or bullet per line: keep each as its own block
            # so the chunker can pack them to size.
            pending_heading = False
            paragraph.append(line)
            flush()
    flush()
    return SourceDocument(doc_id=path.stem, title=title[:200], url="", path=str(path), blocks=blocks)


def _from_html(path: Path, raw: str) -> SourceDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "noscript"]):
        tag.decompose()
    title = (soup.title.get_text(" ", strip=True) if soup.title else "") or _title_from_name(path)
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "td"]):
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name in ("h1", "h2", "h3", "h4"):
            lines.append(f"{'#' * int(el.name[1])} {text}")
        elif el.name == "li":
            lines.append(f"- {text}")
        else:
            lines.append(text)
        lines.append("")
    doc = _from_markdown(path, "\n".join(lines))
    doc.title = title
    return doc


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n\n".join((page.extract_text() or "") for page in reader.pages)


def _title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
