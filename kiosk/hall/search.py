"""The kiosk's search: the words citizens type ("kk", "akte lahir", "perpanjang sim", "pasport")
find the services they mean.

A query is cut into words; a word that is, or starts, one of the hall's synonym groups
(`[search] synonyms`, e.g. ["kk", "kartu keluarga"]) stands for the whole group. A service
matches a word when its name, code, agency or keywords hold that word, a word it begins
(people stop typing early), a word at most one typo away (two for long words), or, for a group,
any of the group's words or phrases. Services matching every word come first and alone; when no
service matches them all, those matching the most are shown. Hyphens, dots and slashes join
("e-ktp" = "ektp", "ak/1" = "ak1"); case and accents do not matter; filler words ("saya", "mau",
"urus") are left out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kiosk.hall.config import HallConfig

STOPWORDS = frozenset({"saya", "mau", "ingin", "akan", "urus", "mengurus", "bikin", "membuat", "buat", "minta",
                       "cara", "tolong", "di", "ke", "dan", "atau", "yang", "untuk", "dengan", "layanan", "loket"})
# Words of agencies' full names that say nothing about a service ("Dinas ... Kabupaten Purwakarta").
AGENCY_FILLER = frozenset({"dinas", "kantor", "badan", "kabupaten", "kota", "provinsi", "cabang", "kelas", "unit",
                           "pt", "persero", "perumda", "non", "tpi", "i", "ii", "up3", "purwakarta", "dan"})
# How well a query word matched a service, best first. Where something matched by its own name
# or its agency's short name (STRONG), weaker matches of that word (typos, agencies' long names) drop out.
NAME_EXACT, NAME_PREFIX, AGENCY_SHORT, NAME_TYPO, AGENCY_LONG, AGENCY_TYPO = 6, 5, 4, 3, 2, 1
STRONG = AGENCY_SHORT


def normalise(text: str) -> str:
    """Lower case, no accents; '-', '.', '/' and "'" join their neighbours; other marks become spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[-./']", "", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def typo_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, change, swap of neighbours) between a and b; limit + 1 when more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def typos_allowed(word: str) -> int:
    """Short words must be exact: 'sim' is not 'kim'; 'paspot' is 'paspor'; 'kependudkan' too."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def word_match(query: str, words: frozenset[str], *, prefix: bool = True) -> str | None:
    """How one query word matches a set of words: "exact", "prefix", "typo" or None."""
    if query in words:
        return "exact"
    if prefix and len(query) >= 2 and any(w.startswith(query) for w in words):
        return "prefix"
    limit = typos_allowed(query)
    if limit and any(typo_distance(query, w, limit) <= limit for w in words):
        return "typo"
    return None


@dataclass(frozen=True)
class Entry:
    """One service as the search sees it (texts normalised, padded with spaces for phrases)."""

    code: str
    name_text: str  # the service's name, code and keywords
    name_words: frozenset[str]
    short_text: str  # its agency's short name
    short_words: frozenset[str]
    long_words: frozenset[str]  # its agency's full name, without filler words

    def quality(self, word: str) -> int:
        """How well a single query word matches (0: not at all)."""
        how = word_match(word, self.name_words)
        if how is not None:
            return {"exact": NAME_EXACT, "prefix": NAME_PREFIX, "typo": NAME_TYPO}[how]
        if word in self.short_words:
            return AGENCY_SHORT
        how = word_match(word, self.long_words | self.short_words, prefix=False)
        return {"exact": AGENCY_LONG, "typo": AGENCY_TYPO}.get(how or "", 0)

    def member_quality(self, member: str) -> int:
        """How well a synonym (a word or a phrase of the query's group) matches."""
        if " " in member:
            return NAME_EXACT if f" {member} " in self.name_text else \
                AGENCY_SHORT if f" {member} " in self.short_text else 0
        if member in self.name_words:
            return NAME_EXACT
        if len(member) >= 3 and any(w.startswith(member) for w in self.name_words):
            return NAME_PREFIX
        return AGENCY_SHORT if member in self.short_words else 0


class ServiceSearch:
    """Finds services of one hall by what citizens type."""

    def __init__(self, config: HallConfig) -> None:
        self.entries: list[Entry] = []
        for service in config.services:
            agency = config.agency(service.agency)
            name = normalise(" ".join([service.name, service.code, *service.keywords]))
            short = normalise(agency.short_name or "") if agency else ""
            long = normalise(agency.name) if agency else ""
            self.entries.append(Entry(
                code=service.code, name_text=f" {name} ", name_words=frozenset(name.split()),
                short_text=f" {short} ", short_words=frozenset(short.split()),
                long_words=frozenset(long.split()) - AGENCY_FILLER))
        self.groups = [tuple(dict.fromkeys(normalise(w) for w in group if normalise(w)))
                       for group in config.search.synonyms]

    def _concepts(self, words: list[str]) -> list[tuple[str, ...]]:
        """The query's words, each alone or standing for its synonym group (phrases taken first)."""
        concepts: list[tuple[str, ...]] = []
        i = 0
        while i < len(words):
            taken = None
            for group in self.groups:
                for member in group:
                    parts = member.split()
                    if len(parts) > 1 and words[i:i + len(parts)] == parts:
                        taken = (group, len(parts))
                        break
                if taken:
                    break
            if taken is None:
                found = self._group_of(words[i])
                taken = ((words[i], *found) if found else (words[i],), 1)
            concepts.append(taken[0])
            i += taken[1]
        return concepts

    def _group_of(self, word: str) -> tuple[str, ...] | None:
        """The synonym group holding this word (or, for a word of 4 letters or more, a word one typo away)."""
        for group in self.groups:
            if word in group:
                return group
        if len(word) >= 4:
            for group in self.groups:
                if any(" " not in m and typo_distance(word, m, 1) <= 1 for m in group):
                    return group
        return None

    @staticmethod
    def _match(concept: tuple[str, ...], entry: Entry) -> int:
        """How well a service matches one concept: the typed word, or any word of its synonym group."""
        return max([entry.quality(concept[0])] + [entry.member_quality(m) for m in concept[1:]])

    def search(self, query: str, limit: int = 30) -> list[str]:
        """Codes of the services matching `query`, best first (empty for an empty query)."""
        words = [w for w in normalise(query).split() if w not in STOPWORDS] or normalise(query).split()
        if not words:
            return []
        concepts = self._concepts(words)
        table = [[self._match(c, entry) for c in concepts] for entry in self.entries]
        for i in range(len(concepts)):  # a word some service matches well: drop its weak matches
            if max(row[i] for row in table) >= STRONG:
                for row in table:
                    if row[i] < STRONG:
                        row[i] = 0
        scored = []
        for order, (entry, quality) in enumerate(zip(self.entries, table, strict=True)):
            matched = sum(1 for q in quality if q)
            if matched:
                code_hit = len(words) == 1 and words[0] == entry.code.lower()
                scored.append((matched, code_hit, sum(quality), -order, entry.code))
        if not scored:
            return []
        most = max(s[0] for s in scored)
        best = sorted((s for s in scored if s[0] == most), reverse=True)
        return [s[4] for s in best[:limit]]


def search_of(config: HallConfig) -> ServiceSearch:
    """The search index of a hall document, built once (the document never changes; admins' edits
    make a new one)."""
    index = config._search
    if not isinstance(index, ServiceSearch):
        index = ServiceSearch(config)
        object.__setattr__(config, "_search", index)
    return index
