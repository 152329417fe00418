"""The published dumps: reading the index pages, the month folders and their md5sums files.

The layout is `<base>/<YYYY-MM>/clickstream-<lang>wiki-<YYYY-MM>.tsv.gz`, with an md5sums file in
each month folder. Nothing here is hard-coded beyond that layout: months and languages come
from the index pages, which are plain directory listings.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

from producer.config import USER_AGENT

#: What a failed request can raise: URLError/HTTPError/timeouts are OSError, a cut response is not.
NETWORK_ERRORS = (OSError, http.client.HTTPException)

MONTH_DIR = re.compile(r"^(?P<month>20[0-9]{2}-(0[1-9]|1[0-2]))/?$")
DUMP_FILE = re.compile(r"^clickstream-(?P<lang>[a-z][a-z0-9_-]*?)wiki-(?P<month>[0-9]{4}-[0-9]{2})\.tsv\.gz$")
MD5_FILE = re.compile(r"md5", re.IGNORECASE)
MD5_LINE = re.compile(r"^(?P<md5>[0-9a-fA-F]{32})\s+\*?(?P<name>\S.*?)\s*$")


class NotPublished(Exception):
    """The index answered, but the wanted month, file or checksum is not there."""


def dump_name(lang: str, month: str) -> str:
    """The standard file name of a dump."""
    return f"clickstream-{lang}wiki-{month}.tsv.gz"


def month_url(base: str, month: str) -> str:
    """The URL of a month folder."""
    return urllib.parse.urljoin(base, f"{month}/")


def file_url(base: str, month: str, name: str) -> str:
    """The URL of a file in a month folder."""
    return urllib.parse.urljoin(month_url(base, month), urllib.parse.quote(name))


def fetch(url: str, timeout: float = 30.0) -> bytes:
    """GET a small resource (an index page or an md5sums file)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: D102
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links(html: str) -> list[str]:
    """The last path component of every link on a directory listing ("2024-11/" stays "2024-11/")."""
    parser = _Links()
    parser.feed(html)
    names = []
    for href in parser.hrefs:
        path = urllib.parse.unquote(urllib.parse.urlsplit(href).path)
        trailing = "/" if path.endswith("/") else ""
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if last and last != "..":
            names.append(last + trailing)
    return names


def parse_months(html: str) -> list[str]:
    """Month folders (YYYY-MM) listed on the top index, oldest first."""
    return sorted({m["month"] for name in links(html) if (m := MONTH_DIR.match(name))})


@dataclass
class MonthListing:
    """What one month folder holds: the dump file of each language, and its checksum files."""

    month: str
    dumps: dict[str, str] = field(default_factory=dict)
    md5_files: list[str] = field(default_factory=list)

    @property
    def langs(self) -> list[str]:
        """Languages with a dump this month, sorted."""
        return sorted(self.dumps)


def parse_month(month: str, html: str) -> MonthListing:
    """The dumps (of this month only) and checksum files listed on a month folder's page."""
    listing = MonthListing(month)
    for name in links(html):
        if (m := DUMP_FILE.match(name)) and m["month"] == month:
            listing.dumps[m["lang"]] = name
        elif MD5_FILE.search(name) and not name.endswith("/"):
            listing.md5_files.append(name)
    return listing


def parse_md5sums(text: str) -> dict[str, str]:
    """`md5sum` output (`<hex>  <name>` per line) as {file name: lower-case hex}."""
    sums = {}
    for line in text.splitlines():
        if m := MD5_LINE.match(line):
            sums[m["name"].rsplit("/", 1)[-1]] = m["md5"].lower()
    return sums


def list_months(base: str, timeout: float = 30.0) -> list[str]:
    """Published months, oldest first."""
    return parse_months(fetch(base, timeout).decode("utf-8", "replace"))


def list_month(base: str, month: str, timeout: float = 30.0) -> MonthListing:
    """The dumps and checksum files of one month folder."""
    return parse_month(month, fetch(month_url(base, month), timeout).decode("utf-8", "replace"))


def published_md5(base: str, listing: MonthListing, name: str, timeout: float = 30.0) -> str:
    """The md5 the month's md5sums file gives for `name`; NotPublished if there is none."""
    if not listing.md5_files:
        raise NotPublished(f"{listing.month}: no md5sums file is published in {month_url(base, listing.month)}")
    for md5_file in listing.md5_files:
        sums = parse_md5sums(fetch(file_url(base, listing.month, md5_file), timeout).decode("utf-8", "replace"))
        if name in sums:
            return sums[name]
    raise NotPublished(f"{name}: not listed in {', '.join(listing.md5_files)} of {listing.month}")
