#!/usr/bin/python3
"""Parses an OpenMetrics file with prometheus_client's reference parser and
prints one canonical line per family and sample, for the C++ test to check:

  family <name> <type> <help as JSON>
  sample <name> <labels as sorted JSON> <value repr>

Exits non-zero (with the parser's message) if the file is not valid.
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    for family in text_string_to_metric_families(text):
        print("family", family.name, family.type, json.dumps(family.documentation))
        for sample in family.samples:
            print("sample", sample.name, json.dumps(sample.labels, sort_keys=True),
                  repr(float(sample.value)))


if __name__ == "__main__":
    main()
