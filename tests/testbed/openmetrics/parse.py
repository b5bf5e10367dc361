"""Parse OpenMetrics text from stdin with the Prometheus project's Python client (its strict
OpenMetrics parser), print the families as JSON: {name: {type, unit, samples: [{name, labels,
value}]}} with NaN as null. A parse error exits 1 with the parser's message."""
import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    families = {}
    try:
        for fam in text_string_to_metric_families(sys.stdin.read()):
            families[fam.name] = {
                "type": fam.type,
                "unit": fam.unit,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": None if math.isnan(s.value) else s.value}
                    for s in fam.samples
                ],
            }
    except Exception as e:  # the parser raises ValueError and friends on invalid input
        print(f"invalid OpenMetrics: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(families, sys.stdout)


main()
