"""The fault suite's short form (`python -m benchmarks.faults --short`), as CI runs it: each
scenario drives the real server in a subprocess and raises when something did not hold."""

from __future__ import annotations

import pytest

from benchmarks import faults


@pytest.mark.parametrize("scenario", ["crash", "printer", "gateway", "disk", "clock", "hostile", "slow"])
async def test_fault_scenario_holds(scenario, tmp_path):
    run = {"crash": lambda: faults.crash_under_load(tmp_path, 2), "printer": lambda: faults.printer_faults(tmp_path, 10),
           "gateway": lambda: faults.gateway_faults(tmp_path), "disk": lambda: faults.disk_full(tmp_path),
           "clock": lambda: faults.clock(tmp_path), "hostile": lambda: faults.hostile_input(tmp_path, 2),
           "slow": lambda: faults.slow_clients(tmp_path, 100)}[scenario]
    line = await run()
    print(line)
