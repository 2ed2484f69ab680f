"""Server-rendered pages (Jinja2, always autoescaped)."""

from __future__ import annotations

import ipaddress
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

ERROR_TITLES = {
    400: "Permintaan tidak valid",
    401: "Perlu masuk",
    403: "Tidak diizinkan",
    404: "Tidak ditemukan",
    409: "Tidak dapat diproses",
    429: "Terlalu banyak permintaan",
    503: "Layanan sementara terganggu",
}


# Roles as staff read them (the stored names stay English: admin, supervisor, officer, regency).
ROLE_LABELS = {"admin": "admin", "supervisor": "pengawas", "officer": "petugas loket",
               "regency": "pemantau kabupaten"}


def role_label(role: str) -> str:
    """A role in Indonesian."""
    return ROLE_LABELS.get(role, role)


def loopback_url(url: str) -> bool:
    """Whether an address only works on the server itself (localhost, 127.0.0.1, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cache
def environment(package: str = "kiosk.web") -> Environment:
    """The template environment of a package's `templates/` folder."""
    env = Environment(loader=PackageLoader(package, "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["role_label"] = role_label
    env.tests["loopback_url"] = loopback_url
    return env


def render(name: str, package: str = "kiosk.web", **context: object) -> str:
    """Render a template to HTML."""
    return environment(package).get_template(name).render(**context)


def render_error(status: int, message: str) -> str:
    """The friendly Indonesian error page."""
    return render("error.html", status=status, title=ERROR_TITLES.get(status, "Terjadi kesalahan"),
                  message=message)
