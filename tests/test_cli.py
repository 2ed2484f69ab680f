"""The `giliran` command line, run as a real subprocess."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.server_process import ServerProcess, run_cli, write_hall

ROOT = Path(__file__).resolve().parent.parent


async def test_check_config(tmp_path):
    code, out, _ = await run_cli("check-config", str(ROOT / "examples" / "mpp-purwakarta.toml"))
    assert code == 0 and "OK: Mal Pelayanan Publik Kabupaten Purwakarta" in out and "109 services" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(write_hall(tmp_path).read_text().replace('services = ["A", "B"]', 'services = ["A", "X"]', 1))
    code, out, err = await run_cli("check-config", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: counters[0] (id '1'), key 'services': unknown service 'X'" in err
    assert "Traceback" not in err


async def test_user_add_and_list(tmp_path, db_at):
    config, db = write_hall(tmp_path), db_at("u")
    common = ("--config", str(config), "--db", str(db))
    code, out, err = await run_cli("user", "add", "siti", "--role", "officer", "--counters", "1,2",
                                   "--password-stdin", *common, stdin="rahasia-123\n")
    assert code == 0, err
    code, out, err = await run_cli("user", "add", "siti", "--role", "officer", "--counters", "2",
                                   "--password-stdin", *common, stdin="rahasia-123\n")
    assert code == 1 and "sudah ada" in err
    code, out, err = await run_cli("user", "add", "budi", "--role", "officer", "--password-stdin", *common,
                                   stdin="rahasia-123\n")
    assert code == 1 and "minimal satu loket" in err, "an officer with no counter could do nothing"
    code, out, err = await run_cli("user", "add", "budi", "--role", "officer", "--counters", "9",
                                   "--password-stdin", *common, stdin="rahasia-123\n")
    assert code == 1 and "Loket '9'" in err
    code, out, err = await run_cli("user", "add", "budi", "--role", "admin", "--password-stdin", *common,
                                   stdin="pendek\n")
    assert code == 1 and "minimal 8" in err
    code, out, err = await run_cli("user", "add", "budi", "--role", "boss", "--password-stdin", *common, stdin="x\n")
    assert code == 2 and "invalid choice" in err
    code, out, _ = await run_cli("user", "list", *common)
    assert code == 0 and out.splitlines() == ["siti\tofficer\t1,2\t-\tactive"]


async def test_serve_uses_environment_settings_and_stops_on_sigterm(tmp_path, monkeypatch, db_at):
    config, db = write_hall(tmp_path), db_at("s")
    server = ServerProcess(config, db)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/api/hall") as resp:
            assert (await resp.json())["name"] == "MPP Uji Ketahanan"
    finally:
        assert await server.stop() == 0
    assert not isinstance(db, Path) or db.exists()
    monkeypatch.setenv("GILIRAN_PORT", "not-a-port")
    code, _, err = await run_cli("serve")
    assert code == 2 and "GILIRAN_PORT" in err
    monkeypatch.setenv("GILIRAN_PORT", "0")
    monkeypatch.setenv("GILIRAN_CONFIG", str(tmp_path / "missing.toml"))
    code, _, err = await run_cli("serve")
    assert code == 2 and "missing.toml: file not found" in err
