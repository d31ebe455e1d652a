# SPDX-License-Identifier: MIT
"""tests/docs/pages.py: what the docs test reads in README.md and doc/*.md.

blocks() gives every fenced code block with its language and the marker on
the line before its fence (<!-- quick-start --> or <!-- excerpt: why -->);
stray_markers() the markers that stand before no shell block; broken_links()
the relative links whose file or heading is not there.
"""

import glob
import os
import re

SHELL = ("sh", "bash", "shell", "console")
MARKER = re.compile(r"^<!--\s*(quick-start|excerpt)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^`\s]*)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


class Block:
    """A fenced block: where it is, its language, its marker (or None), its text."""

    def __init__(self, path, line, lang, marker, reason, text):
        self.path, self.line, self.lang = path, line, lang
        self.marker, self.reason, self.text = marker, reason, text

    @property
    def shell(self):
        return self.lang in SHELL

    def where(self, top):
        return "%s:%d" % (os.path.relpath(self.path, top), self.line)


def documents(top):
    """README.md, then doc/*.md in name order."""
    return [os.path.join(top, "README.md")] + sorted(glob.glob(os.path.join(top, "doc", "*.md")))


def _scan(path):
    """(blocks, markers) of a file: markers as (line, kind, used)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, markers = [], []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            markers.append([i + 1, m.group(1), False])
        f = FENCE.match(lines[i])
        if not f:
            i += 1
            continue
        fence, lang = f.group(1), f.group(2).lower()
        before = MARKER.match(lines[i - 1]) if i > 0 else None
        if before:
            markers[-1][2] = True
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence[0] * len(fence)):
            end += 1
        blocks.append(Block(path, i + 1, lang, before.group(1) if before else None,
                            before.group(2) if before else None,
                            "\n".join(lines[i + 1:end]) + "\n"))
        i = end + 1
    return blocks, markers


def blocks(top):
    """Every fenced block of the documents, in order."""
    return [b for path in documents(top) for b in _scan(path)[0]]


def stray_markers(top):
    """'file:line' of each marker that is not on the line before a fence."""
    return ["%s:%d" % (os.path.relpath(path, top), line)
            for path in documents(top) for line, _, used in _scan(path)[1] if not used]


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    """The anchors of a Markdown file's headings (outside code blocks)."""
    seen, found, fence = {}, set(), None
    for line in open(path, encoding="utf-8"):
        f = FENCE.match(line)
        if f and (fence is None or line.startswith(fence)):
            fence = None if fence else f.group(1)
            continue
        h = HEADING.match(line) if fence is None else None
        if h:
            s = slug(h.group(2))
            n = seen.get(s, 0)
            seen[s] = n + 1
            found.add(s if n == 0 else "%s-%d" % (s, n))
    return found


def broken_links(top):
    """'file: link (why)' for each relative link to a missing file or heading."""
    broken = []
    for path in documents(top):
        text = re.sub(r"(?ms)^(`{3,}).*?^\1", "", open(path, encoding="utf-8").read())
        for link in LINK.findall(text):
            if re.match(r"^[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
            where = "%s: %s" % (os.path.relpath(path, top), link)
            if not os.path.exists(full):
                broken.append(where + " (no such file)")
            elif anchor and full.endswith(".md") and anchor not in anchors(full):
                broken.append(where + " (no such heading)")
    return broken
