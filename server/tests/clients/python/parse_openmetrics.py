"""Parses an OpenMetrics text exposition with the reference parser (prometheus_client's
strict OpenMetrics parser: it rejects bad names, labels, bucket order, a +Inf bucket that
differs from _count, a missing # EOF, ...) and prints every sample as JSON for the Rust test
metrics_endpoint_reports_produce_and_fetch.

usage: python parse_openmetrics.py FILE
output: {"families": {name: type}, "samples": [[sample_name, {label: value}, value], ...]}
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    families = {}
    samples = []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            samples.append([sample.name, dict(sample.labels), sample.value])
    json.dump({"families": families, "samples": samples}, sys.stdout)


if __name__ == "__main__":
    main()
