"""The queue page: filters, search, pages, CSV and a two-step bulk action (SQLite: no SQL of its own)."""

from __future__ import annotations

import csv
import io
import re

import orjson
import pytest
from sqlalchemy import select

from handoffs.store.tables import audit_log
from tests.console.conftest import Console, sign_in
from tests.support.flow import load

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_filter_search_page_download_and_bulk_ignore_with_a_preview(console: Console) -> None:
    hub, firm = console.hub, console.firm
    pulled = [orjson.dumps({**orjson.loads(firm.bad_line), "id": f"TE-H-{n}"}).decode() for n in (1, 2)]
    assert load(hub, pulled, source="harvest:time_entries").failed == 2
    http = console.client()
    csrf = sign_in(http, "otto")

    first = http.get("/console/exceptions", params={"per_page": 1, "sort": "id"})
    assert "3 exception(s), page 1 of 3" in first.text and len(re.findall("exception-row", first.text)) == 1
    assert 'rel="next"' in first.text and "page=2" in first.text
    last = http.get("/console/exceptions", params={"per_page": 1, "sort": "id", "page": 99}).text
    assert "page 3 of 3" in last and 'rel="prev"' in last  # past the end: the last page
    found = http.get("/console/exceptions", params={"q": "te-h-2"}).text  # case-insensitive
    [row] = found.split('data-testid="exception-row"')[1:]
    with hub.uow() as uow:
        [wanted] = [x.id for x in uow.exceptions.list() if "TE-H-2" in x.raw]
    assert f'value="{wanted}"' in row  # found in the raw payload
    harvest = http.get("/console/exceptions", params={"system": "harvest", "age": "", "entity": "LE-US"})
    assert "2 exception(s)" in harvest.text
    assert "0 exception(s)" in http.get("/console/exceptions", params={"age": "7"}).text  # all new

    download = http.get("/console/exceptions.csv", params={"system": "harvest"})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["system"] for r in rows) == ["harvest", "harvest"]
    assert {r["legal_entity_id"] for r in rows} == {"LE-US"}

    form = {"csrf": csrf, "system": "harvest", "action": "ignore", "scope": "filter", "reason": "stale"}
    assert http.post("/console/exceptions/bulk", data={**form, "scope": "selected"}).status_code == 422
    assert http.post("/console/exceptions/bulk", data={**form, "reason": ""}).status_code == 422
    shown = http.post("/console/exceptions/bulk", data=form)
    assert shown.status_code == 200 and "Nothing has changed yet" in shown.text
    ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', shown.text)]
    assert len(ids) == 2 and firm.exception_id not in ids
    with hub.uow() as uow:
        assert {uow.exceptions.get(i).state for i in ids} == {"open"}  # the preview changed nothing
    done = http.post(
        "/console/exceptions/bulk", data={**form, "confirm": "yes", "scope": "selected", "ids": ids}
    )
    assert done.status_code == 303 and "done=bulk&changed=2&refused=0" in done.headers["location"]
    assert "2 exception(s) changed, 0 refused" in http.get(done.headers["location"]).text
    with hub.uow() as uow:
        assert {uow.exceptions.get(i).state for i in ids} == {"ignored"}
        assert uow.exceptions.get(firm.exception_id).state == "open"
        rows = list(uow.connection.execute(select(audit_log.c.action, audit_log.c.actor)))
    assert ("console.bulk_ignore_exceptions", "console:otto") in rows
    assert rows.count(("console.ignore_exception", "console:otto")) == 2

    viewer = console.client()
    token = sign_in(viewer, "vera")
    assert "bulk-preview" not in viewer.get("/console/exceptions").text
    refused = viewer.post("/console/exceptions/bulk", data={**form, "csrf": token, "confirm": "yes"})
    assert refused.status_code == 403


def test_links_lead_to_traces_payloads_entries_and_explain(console: Console) -> None:
    hub, firm = console.hub, console.firm
    http = console.client()
    sign_in(http, "vera")
    trace = http.get(f"/console/traces?correlation_id=project:{firm.project}").text
    assert 'data-testid="payload"' in trace and "&#34;project_id&#34;" in trace  # steps open to payloads
    with hub.uow() as uow:
        invoice, _ = next(iter(uow.invoices.iter_all()))
    line = invoice.lines[0]
    explained = http.get(f"/console/explain/{line.id}")
    assert explained.status_code == 200 and f"Where invoice line {line.id}" in explained.text
    entry_link = re.search(r'href="(/console/reconciliation\?[^"]+source=time_entry[^"]+)"', explained.text)
    assert entry_link is not None
    entry = http.get(entry_link.group(1).replace("&amp;", "&")).text
    assert 'data-testid="entry-fields"' in entry and f"/console/explain/{line.id}" in entry  # and back
    assert http.get("/console/explain/NO-SUCH-LINE").status_code == 404
    overview = http.get("/console/").text
    assert 'href="/console/exceptions?state=open"' in overview and 'href="/console/kpis"' in overview
    kpis = http.get("/console/kpis", params={"months": 6}).text
    assert 'value="6" selected' in kpis and kpis.count('data-testid="kpi"') == 6
    assert (
        'value="6" selected' not in http.get("/console/kpis", params={"months": 5}).text
    )  # not offered: all
