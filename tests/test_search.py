"""The kiosk's search on the demo hall, worked examples of what citizens type; the hall keys it and
the other new pages read; the admin pages' Indonesian messages for problems of the hall document."""

from __future__ import annotations

import pytest

from kiosk.hall.config import DEMO_HALL, ConfigError
from kiosk.hall.messages import indonesian
from kiosk.hall.parse import load_hall, parse_hall
from kiosk.hall.search import ServiceSearch, normalise, typo_distance
from tests.conftest import hall_dict


@pytest.fixture(scope="module")
def search() -> ServiceSearch:
    return ServiceSearch(load_hall(DEMO_HALL))


@pytest.mark.parametrize(("query", "first", "among"), [
    ("kk", "B", {"B"}),                          # an abbreviation from the hall's synonyms
    ("KK", "B", {"B"}),
    ("kartu kluarga", "B", {"B"}),               # a typo
    ("akte", "C", {"C", "D", "E"}),              # akte = akta
    ("akte lahir", "C", {"C"}),                  # both words: only the birth certificate
    ("e-ktp", "A", {"A"}),                       # e-KTP = KTP Elektronik
    ("saya mau urus ktp", "A", {"A"}),           # filler words do not count
    ("stnk", "PK", {"PK", "PL", "BN", "MK"}),    # STNK: the Samsat services
    ("perpanjang sim", "SI", {"SI"}),            # "perpanjang" begins "Perpanjangan"; SIM before SKCK
    ("pasport", "PB", {"PB", "PP", "PH", "PM"}),
    ("paspot", "PB", {"PB", "PP", "PH", "PM"}),  # one letter wrong
    ("bpjs", "JD", {"JD", "KH"}),                # both BPJS agencies
    ("imb", "BG", {"BG"}),                       # the old name of PBG
    ("ak/1", "AK", {"AK"}),
    ("kartu kuning", "AK", {"AK"}),
    ("dukcapil", "I", {"A", "B", "C", "J"}),      # services naming "kependudukan" first, then the agency's
    ("haji", "HJ", {"HJ", "UM"}),
    ("kar", "B", {"B", "F"}),                    # half a word while typing
])
def test_what_citizens_type_finds_what_they_mean(search: ServiceSearch, query: str, first: str, among: set[str]):
    found = search.search(query)
    assert found and found[0] == first, (query, found[:5])
    assert among <= set(found), (query, found)


def test_typos_are_forgiven_only_where_they_cannot_mislead(search: ServiceSearch):
    assert "KK" not in search.search("haji") and "TK" not in search.search("haji"), "haji is not 'hari'"
    assert search.search("sim")[0] in ("SA", "SC", "SI") and "KS" not in search.search("sim")
    assert search.search("") == [] and search.search("   ") == [] and search.search("zzzzqq") == []
    assert search.search("a")[0] == "A", "a code typed alone finds its service first"


def test_the_small_helpers():
    assert normalise("E-KTP / Akta-Kelahiran, Ümrah") == "ektp aktakelahiran umrah"
    assert typo_distance("paspor", "pasport", 1) == 1 and typo_distance("kk", "kkk", 1) == 1
    assert typo_distance("akta", "atka", 1) == 1, "two letters swapped are one typo"
    assert typo_distance("keluarga", "kendaraan", 2) == 3, "beyond the limit: limit + 1"


async def test_the_kiosk_search_route(client):
    resp = await client.get("/api/kiosk/search?q=kartu%20kluarga")
    assert resp.status == 200 and (await resp.json())["services"] == ["B"]
    assert (await (await client.get("/api/kiosk/search")).json())["services"] == []


def test_new_hall_keys_are_checked():
    config = parse_hall(hall_dict(
        agencies=[{"code": "DUKCAPIL", "name": "Disdukcapil", "short_name": "Capil", "icon": "identitas"},
                  {"code": "IMIGRASI", "name": "Imigrasi"}],
        tickets={"late_print": "drop"}, display={"playlist": ["promo-1.mp4", "jadwal.png"], "image_seconds": 8},
        search={"synonyms": [["kk", "kartu keluarga"]]},
        zones=[{"id": "z1", "name": "Lantai 1 · Zona A", "short_name": "Zona A", "counters": ["1"]},
               {"id": "lt1", "name": "Lantai 1", "counters": ["1", "2"]}]))
    assert config.agency("DUKCAPIL").label == "Capil" and config.agency("IMIGRASI").icon == "kantor"
    assert config.tickets.late_print == "drop" and config.display.playlist == ("promo-1.mp4", "jadwal.png")
    assert config.zone_of_counter("1").label == "Zona A", "the smallest zone holding the counter"
    assert config.zone_of_counter("2").id == "lt1" and config.zone_of_counter("3") is None
    for doc, needle in (
        (hall_dict(agencies=[{"code": "X", "name": "X", "icon": "unicorn"}]), "key 'icon'"),
        (hall_dict(tickets={"late_print": "later"}), "key 'late_print'"),
        (hall_dict(display={"playlist": ["../etc/passwd"]}), "key 'playlist'"),
        (hall_dict(display={"image_seconds": 1}), "key 'image_seconds'"),
        (hall_dict(search={"synonyms": [["kk"]]}), "key 'synonyms'"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_hall(doc, "hall.toml")
        assert needle in str(info.value), str(info.value)


@pytest.mark.parametrize(("change", "said"), [
    ({"services": [{"code": "A", "name": "KTP", "agency": "DUKCAPIL", "hours": "8-12"}]},
     "Layanan A · Jam layanan: '8-12' bukan jam berbentuk JJ:MM-JJ:MM (mis. 08:00-12:00)."),
    ({"services": [{"code": "A", "name": "KTP", "agency": "DUKCAPIL", "daily_quota": 0}]},
     "Layanan A · Kuota harian: paling sedikit 1 (kosongkan jika tanpa kuota)."),
    ({"services": [{"code": "A", "agency": "DUKCAPIL"}]}, "Layanan A · Nama layanan: wajib diisi."),
    ({"hall": {"name": "MPP", "public_url": "ftp://x"}},
     "Nama & alamat · Alamat publik (untuk kode QR): harus diawali http:// atau https://, bukan 'ftp://x'."),
    ({"printers": [{"id": "P1", "driver": "network", "host": "h", "port": 70000}]},
     "Printer P1 · Port (network): 70000 bukan nomor port (1-65535)."),
    ({"display": {"stale_after_s": 5}}, "Layar & suara · Tanda terputus setelah (detik): harus antara 15 dan 600 detik."),
])
def test_admins_read_hall_problems_in_indonesian_with_the_forms_labels(change, said):
    doc = hall_dict(**change)
    if "services" in change:
        doc["counters"] = [{"id": "1", "name": "Loket 1", "services": ["A"]}]
    with pytest.raises(ConfigError) as info:
        parse_hall(doc, "database")
    assert indonesian(info.value) == said
    assert "database:" in str(info.value), "the command line keeps its own message"


def test_a_problem_without_a_translation_still_names_the_field_in_indonesian():
    error = ConfigError("x", where="services[0] (code 'A')", key="hours", problem="something new went wrong")
    assert indonesian(error) == ("Layanan A · Jam layanan: isian tidak valid (mis. 08:00-12:00, 13:00-15:00; "
                                 "kosongkan jika selama kios menyala).")


async def test_admins_edit_the_search_words_the_pictograms_and_keywords(client):
    from kiosk.web.appkeys import QUEUE
    from tests.test_admin import page_session

    csrf = await page_session(client, "admin", "admin")
    resp = await client.post("/admin/search", data={"csrf": csrf, "synonyms": "kk, kartu keluarga\n\nktp,  e-ktp \n"},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    config = client.server.app[QUEUE].config
    assert config.search.synonyms == (("kk", "kartu keluarga"), ("ktp", "e-ktp"))
    assert "kk, kartu keluarga" in await (await client.get("/admin/search")).text(), "the form shows a group a line"
    assert (await (await client.get("/api/kiosk/search?q=kk")).json())["services"] == ["B"], "used at once"
    resp = await client.post("/admin/search", data={"csrf": csrf, "synonyms": "kk"})
    assert resp.status == 422 and "Pencarian kios · Kelompok kata yang sama arti: setiap kelompok" in await resp.text()
    resp = await client.post("/admin/agencies/DUKCAPIL", data={"csrf": csrf, "name": "Disdukcapil", "short_name": "Capil",
                                                               "icon": "identitas"}, allow_redirects=False)
    assert resp.status == 303
    resp = await client.post("/admin/services/B", data={"csrf": csrf, "keywords": "kartu kk, kependudukan"},
                             allow_redirects=False)
    assert resp.status == 303
    config = client.server.app[QUEUE].config
    assert config.agency("DUKCAPIL").label == "Capil" and config.service("B").keywords == ("kartu kk", "kependudukan")
