"""Pieces the controls reports share (tools/controls.py in English, tools/controls_ja.py in Japanese):
the HTML page head, the titled lists of the evidence in Markdown and HTML, and the command line."""

from __future__ import annotations

import argparse
import html
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def html_head(lang: str, title: str, css: str) -> list[str]:
    """The page's opening lines, up to and including its <h1> (the title, escaped, is also the <h1>)."""
    return [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{css}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]


def md_list(title: str, lines: Iterable[str]) -> list[str]:
    """A titled Markdown list (`lines` are its lines, markers included) and a blank line; nothing when empty."""
    body = list(lines)
    return [title, *body, ""] if body else []


def html_list(title: str, items: Iterable[str], *, one_line: bool = False) -> list[str]:
    """`<p>title</p>` and a <ul> of `items` (each the HTML inside its <li>); nothing when empty.

    `one_line` gives the whole list as one line instead of one line for the title, one per item and one for </ul>.
    """
    body = [f"<li>{item}</li>" for item in items]
    if not body:
        return []
    lines = [f"<p>{title}</p><ul>", *body, "</ul>"]
    return ["".join(lines)] if one_line else lines


def shown(path: Path) -> str:
    """`path` relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def stack_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """The arguments both reports start with: --stack and --file; the description is the first paragraph of `doc`."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--file", help="a `pulumi stack export` file (default: render the stack offline)")
    return parser
