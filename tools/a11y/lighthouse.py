"""Lighthouse accessibility scores and page weights of Giliran's pages, with Debian's chromium.

    make a11y                      # starts the demo server on a fresh database, prints a table
    python -m tools.a11y.lighthouse --url http://127.0.0.1:8080 --cookie giliran_session=...

Lighthouse comes from npm (`npm ci --prefix tools/a11y`); it drives /usr/bin/chromium through
CHROME_PATH and never downloads a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("GILIRAN_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Score:
    """One page's result."""

    name: str
    path: str
    accessibility: int  # 0-100
    failed: list[str]  # titles of the accessibility audits that failed
    transferred: int  # bytes over the network for the page and what it loaded


def available() -> bool:
    """Lighthouse installed and a chromium to drive."""
    return LIGHTHOUSE.exists() and bool(shutil.which("node")) and Path(CHROMIUM).exists()


async def score(base_url: str, name: str, path: str, cookie: str | None = None,
                form_factor: str = "desktop") -> Score:
    """Run Lighthouse (accessibility, plus the byte-weight audit) on one page."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        args = [
            "node", str(LIGHTHOUSE), base_url.rstrip("/") + path,
            "--only-categories=accessibility", "--only-audits=network-requests", "--output=json", f"--output-path={out}", "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
            f"--form-factor={form_factor}", "--throttling-method=provided", "--max-wait-for-load=8000",
            "--screenEmulation.disabled" if form_factor == "desktop" else "--screenEmulation.mobile",
        ]
        if cookie:
            args.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        env = os.environ | {"CHROME_PATH": CHROMIUM}
        proc = await asyncio.create_subprocess_exec(*args, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 180)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"lighthouse failed on {path}: {err.decode(errors='replace')[-800:]}")
        report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse on {path}: {report['runtimeError']}")
    category = report["categories"]["accessibility"]
    audits = report["audits"]
    failed = [audits[ref["id"]]["title"] for ref in category["auditRefs"]
              if ref["weight"] and audits[ref["id"]].get("score") not in (None, 1)]
    items = (audits.get("network-requests", {}).get("details") or {}).get("items", [])
    transferred = sum(int(i.get("transferSize") or 0) for i in items if "events" not in i.get("url", ""))
    return Score(name, path, round(category["score"] * 100), failed, transferred)


def table(scores: list[Score]) -> str:
    """A Markdown table of the results."""
    lines = ["| page | path | accessibility | transferred | failed audits |", "|---|---|---:|---:|---|"]
    for s in scores:
        shown = "/t/<token>" if s.path.startswith("/t/") else s.path
        lines.append(f"| {s.name} | `{shown}` | {s.accessibility} | {s.transferred / 1024:.1f} KB | "
                     f"{'; '.join(s.failed) or '-'} |")
    return "\n".join(lines)


async def session_cookie(base_url: str, username: str, password: str) -> str:
    """Log in through the staff form; returns the Cookie header of the session."""
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # a loopback IP
        async with http.get(f"{base_url}/staff/login") as resp:
            csrf = resp.cookies["giliran_login_csrf"].value
        async with http.post(f"{base_url}/staff/login", allow_redirects=False,
                             data={"username": username, "password": password, "csrf": csrf}) as resp:
            if resp.status != 303:
                raise RuntimeError(f"login as {username} failed: {resp.status}")
            return f"giliran_session={resp.cookies['giliran_session'].value}"


async def hall_pages(base_url: str, username: str, password: str, kiosk: str, service: str, counter: str
                     ) -> list[Score]:
    """Score the kiosk, a ticket's status page (phone), the login, the console and the admin pages."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/api/tickets", json={"service": service, "kiosk": kiosk}) as resp:
            token = (await resp.json())["token"]
    cookie = await session_cookie(base_url, username, password)
    pages = [("Kios (layar sentuh)", f"/kiosk?kiosk={kiosk}", None, "desktop"),
             ("Status tiket (ponsel)", f"/t/{token}", None, "mobile"),
             ("Login petugas", "/staff/login", None, "desktop"),
             ("Konsol loket", f"/staff/counter/{counter}", cookie, "desktop"),
             ("Semua loket", "/staff/supervisor", cookie, "desktop"),
             ("Pengaturan", "/admin", cookie, "desktop"),
             ("Ubah layanan", f"/admin/services/{service}", cookie, "desktop"),
             ("Akun petugas", "/admin/users", cookie, "desktop"),
             ("Layar aula", "/display?sound=0", None, "desktop")]
    return [await score(base_url, name, path, page_cookie, form) for name, path, page_cookie, form in pages]


async def _demo() -> list[Score]:
    """The demo hall on a fresh database, as `make run` starts it, with one admin."""
    root = HERE.parent.parent
    sys.path.insert(0, str(root))
    from kiosk.hall.config import DEMO_HALL
    from tests.server_process import ServerProcess, run_cli

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "a11y.sqlite3"
        code, _, err = await run_cli("user", "add", "admin", "--role", "admin", "--password-stdin", "--db", str(db),
                                     stdin="rahasia-a11y\n")
        if code:
            raise RuntimeError(err)
        server = ServerProcess(DEMO_HALL, db)
        await server.start()
        try:
            return await hall_pages(server.url, "admin", "rahasia-a11y", "K1", "A", "1")
        finally:
            await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/a11y.md")
    args = parser.parse_args()
    if not available():
        print("lighthouse is not installed: npm ci --prefix tools/a11y (and apt-get install chromium)")
        return 2
    scores = asyncio.run(_demo())
    text = table(scores)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("# Lighthouse accessibility (make a11y)\n\n" + text + "\n")
    return 0 if all(s.accessibility >= 95 for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
