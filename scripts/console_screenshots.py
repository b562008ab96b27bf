"""Save the console screenshots of docs/console.md from a running ``handoffs serve``.

    handoffs demo --out-dir demo-out
    export HANDOFFS_DATABASE_URL=sqlite:///demo-out/handoffs.db
    handoffs console adduser shots --role viewer --password-stdin <<< 'screenshots of the console'
    handoffs serve --port 8000 &
    python scripts/console_screenshots.py --user shots --password 'screenshots of the console'

Drives Debian's chromium (``/usr/bin/chromium``) through Playwright; writes
``console-overview.png``, ``console-exceptions.png`` and ``console-reconciliation.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _drill_down(page: Page, base: str) -> None:
    """Reconciliation: the first legal entity, project and entry that have a break."""
    page.goto(f"{base}/console/reconciliation")
    for table in ("entities", "projects", "entries"):
        link = page.locator(f"[data-testid={table}] td a").first
        if link.count() == 0:
            return
        page.goto(base + str(link.get_attribute("href")))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where handoffs serve listens.")
    parser.add_argument("--user", required=True, help="A console user (any role).")
    parser.add_argument("--password", required=True, help="Their password.")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="Folder for the PNG files.")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="The chromium executable.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base_url.rstrip("/")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/console/login")
        page.fill("#name", args.user)
        page.fill("#password", args.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/")
        page.screenshot(path=str(args.out / "console-overview.png"), full_page=True)
        page.goto(f"{base}/console/exceptions")
        page.screenshot(path=str(args.out / "console-exceptions.png"))
        _drill_down(page, base)
        page.screenshot(path=str(args.out / "console-reconciliation.png"), full_page=True)
        browser.close()
    for name in ("overview", "exceptions", "reconciliation"):
        print(args.out / f"console-{name}.png")  # noqa: T201 - a script's output


if __name__ == "__main__":
    main()
