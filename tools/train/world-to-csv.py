#!/usr/bin/env python3
"""Writes the web clickstream of a generated world as CSV files, shaped like a public
e-commerce click log: one row per web event, keyed by the anonymous visitor, with no
identity links and none of the app events.

    tools/train/world-to-csv.py WORLD_DIR OUT_DIR

For each split (train, validation, test) of WORLD_DIR it writes OUT_DIR/<split>.csv:
';'-delimited, a header, fractional Unix seconds, RFC 4180 quoting. Train on it with

    intentstream-train --train OUT_DIR/train.csv --valid OUT_DIR/validation.csv \\
      --eval OUT_DIR/test.csv --csv-delimiter ';' --csv-visitor visitor --csv-time ts \\
      --csv-item page --csv-type event --csv-product product ...
"""
import csv
import datetime
import json
import os
import sys


def unix_seconds(iso):
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{t.timestamp():.3f}"


def convert(split_dir, out_path):
    rows = 0
    with open(os.path.join(split_dir, "web-events.jsonl")) as src, open(
        out_path, "w", newline=""
    ) as dst:
        out = csv.writer(dst, delimiter=";", lineterminator="\n")
        out.writerow(["visitor", "ts", "page", "event", "product"])
        for line in src:
            e = json.loads(line)
            event = e.get("event_type", "").replace("WEB_EVENT_TYPE_", "").lower()
            page = e.get("url_path", "")
            if event == "search" and e.get("search_query"):
                page = "/search"
            out.writerow(
                [e["anonymous_id"], unix_seconds(e["event_time"]), page, event,
                 e.get("product_code", "")]
            )
            rows += 1
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    world, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for split in ("train", "validation", "test"):
        path = os.path.join(out_dir, split + ".csv")
        print(f"{path}: {convert(os.path.join(world, split), path)} rows")


if __name__ == "__main__":
    main()
