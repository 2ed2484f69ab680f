"""Write Indonesia's national holidays and cuti bersama of some years as `[[holidays]]` entries for
a hall file, from the `holidays` package (not a Giliran dependency: run it in any venv that has it,
`pip install holidays`, then paste the output into the hall file and check it against the year's
SKB 3 Menteri). Usage: python tools/holidays_toml.py 2026 2027"""

from __future__ import annotations

import sys

import holidays  # type: ignore[import-not-found]


def main(years: list[int]) -> None:
    found = holidays.country_holidays("ID", years=years, language="id", categories=("public", "government"))
    print(f"# Libur nasional dan cuti bersama {', '.join(map(str, years))}: from the `holidays` package "
          f"{holidays.__version__} (tools/holidays_toml.py); \"(perkiraan)\" dates await the government's decree.")
    for day, name in sorted(found.items()):
        for one in name.split("; "):
            print(f'[[holidays]]\ndate = "{day.isoformat()}"\nname = "{one}"\n')
            break  # one entry per date: a hall is closed or not


if __name__ == "__main__":
    main([int(y) for y in sys.argv[1:]] or [2026, 2027])
