"""The one Jinja2 environment of the project's own pages and messages: the correction report,
the console, the operators' alerts and the morning lists (include/templates, autoescaped)."""

from __future__ import annotations

from functools import cache

import jinja2

from badging.core import sql


@cache
def templates() -> jinja2.Environment:
    """The Jinja2 templates under include/templates (autoescaped, undefined is an error)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(sql.include_dir() / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)


def render(template: str, **values: object) -> str:
    """One template rendered with these values."""
    return templates().get_template(template).render(**values)
