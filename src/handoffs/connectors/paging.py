"""The pagination styles of the products Handoffs talks to, as generators of pages.

* ``next_records_url`` — Salesforce: ``{done, records, nextRecordsUrl}``;
* ``links_next`` — Harvest v2: follow ``links.next`` (page-numbered or cursor-paged alike,
  never build page URLs by hand);
* ``next_cursor`` — cursor APIs: ``{data, has_more, next_cursor}`` with a ``cursor`` param.

Each yields the list of records of one page, so callers can stop early and tests can
assert on page boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from handoffs.connectors.http import HttpClient
from handoffs.engine.errors import TerminalError

__all__ = ["links_next", "next_cursor", "next_records_url"]

MAX_PAGES = 100_000  # a server that never says "done" must not loop forever


def next_records_url(client: HttpClient, url: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
    """Salesforce query paging: follow ``nextRecordsUrl`` until ``done`` is true."""
    body = client.json("GET", url, **kwargs)
    for _ in range(MAX_PAGES):
        yield list(body.get("records") or [])
        if body.get("done", True) or not body.get("nextRecordsUrl"):
            return
        body = client.json("GET", body["nextRecordsUrl"], headers=kwargs.get("headers"))
    raise TerminalError(f"{client.system}: more than {MAX_PAGES} pages", category="paging")


def links_next(
    client: HttpClient, url: str, collection: str, **kwargs: Any
) -> Iterator[list[dict[str, Any]]]:
    """Harvest paging: the records under ``collection``, then ``links.next`` until it is null."""
    body = client.json("GET", url, **kwargs)
    for _ in range(MAX_PAGES):
        yield list(body.get(collection) or [])
        following = (body.get("links") or {}).get("next")
        if not following:
            return
        body = client.json("GET", following)
    raise TerminalError(f"{client.system}: more than {MAX_PAGES} pages", category="paging")


def next_cursor(
    client: HttpClient, url: str, params: dict[str, Any], *, data: str = "data"
) -> Iterator[list[dict[str, Any]]]:
    """Cursor paging: pass ``cursor=next_cursor`` while ``has_more`` is true."""
    query = dict(params)
    for _ in range(MAX_PAGES):
        body = client.json("GET", url, params=query)
        yield list(body.get(data) or [])
        if not body.get("has_more") or not body.get("next_cursor"):
            return
        query = {**params, "cursor": body["next_cursor"]}
    raise TerminalError(f"{client.system}: more than {MAX_PAGES} pages", category="paging")
