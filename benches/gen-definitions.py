#!/usr/bin/env python3
"""Write a large definitions directory for benchmarking `costform validate`.

Usage: benches/gen-definitions.py --reports 10000 --files 100 --out DIR

Each file declares a few variables and `defaults:`, and its reports mix
templated and literal dates, `period` shorthands and id filters, roughly
the way a big FinOps repository would. Output is deterministic.
"""

import argparse
import os

PERIODS = ["last_month", "last_3_months", "year_to_date", "this_month", "last_year"]
TEMPLATED = [
    ('"{{ today | start_of_month | add_months(-1) }}"', '"{{ today | start_of_month }}"'),
    ('"{{ today | start_of_quarter | add_months(-3) }}"', '"{{ today | start_of_quarter }}"'),
    ('"{{ today | start_of_month | add_months(-var.months) }}"', '"{{ today | start_of_month }}"'),
]
SERVICES = ["Clusters", "Storage", "Backup", "Data Transfer"]


def hex_id(seed):
    return f"{seed:024x}"[-24:].replace("0", "a", 1) if seed else "a" * 24


def report(index, budgets):
    lines = [f"  report-{index:05d}:"]
    style = index % 4
    if style == 0:
        lines.append(f"    period: {PERIODS[index % len(PERIODS)]}")
    elif style == 1:
        start, end = TEMPLATED[index % len(TEMPLATED)]
        lines.append(f"    start_date: {start}")
        lines.append(f"    end_date: {end}")
    elif style == 2:
        year = 2020 + index % 6
        lines.append(f'    start_date: "{year}-{1 + index % 12:02d}-01"')
        lines.append(f'    end_date: "{year + 1}-{1 + index % 12:02d}-01"')
    else:
        lines.append("    period: last_12_months")
        lines.append("    group_by: projects")
        lines.append(f"    projects: [{hex_id(0x65A1B2C3D4E5F6A7B8C90000 + index)}]")
    if style != 3:
        lines.append(f"    services: [{', '.join(SERVICES[: 1 + index % len(SERVICES)])}]")
    if budgets:
        lines.append("    budget:")
        lines.append(f"      monthly_limit: {5000 + 250 * (index % 40)}")
        lines.append("      max_increase_percent: 50")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--out", required=True)
    parser.add_argument("--budgets", action="store_true", help="give every report a budget (for `check`)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    per_file = -(-args.reports // args.files)
    index = 0
    for file in range(args.files):
        body = [
            "# yaml-language-server: $schema=../schemas/costform.schema.json",
            "variables:",
            "  org: 5f0c8a1b2c3d4e5f6a7b8c9d",
            "  months: 3",
            "defaults:",
            '  org_id: "{{ var.org }}"',
            "  group_by: services",
            "reports:",
        ]
        count = 0
        while count < per_file and index < args.reports:
            body.append(report(index, args.budgets))
            index += 1
            count += 1
        if count == 0:
            break
        with open(os.path.join(args.out, f"defs-{file:03d}.yaml"), "w", encoding="utf-8") as out:
            out.write("\n".join(body) + "\n")


if __name__ == "__main__":
    main()
