"""Guideline bodies are Markdown written by anyone with a project: rendered, then sanitised."""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# Raw HTML is off in the parser, and nh3 (ammonia) then keeps only these tags and attributes,
# http(s)/mailto links, and no event handlers or styles: two independent layers.
_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str, *, heading_offset: int = 0) -> SafeString:
    """Safe HTML for ``text``: no script, no event handler, no javascript: (or data:) URL gets through.

    ``heading_offset`` demotes headings (``2`` turns ``#`` into ``<h3>``) so a body shown inside
    a page does not compete with the page's own ``<h1>``.
    """
    env: dict[str, object] = {}
    tokens = _PARSER.parse(text or "", env)
    if heading_offset:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + heading_offset)}"
    html = _PARSER.renderer.render(tokens, _PARSER.options, env)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 — sanitised by nh3 just above
