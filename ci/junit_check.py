"""Parses a run's junit.xml with a real consumer (junitparser, from PyPI) and checks that its
counts equal results.json's. Usage: junit_check.py RUN_DIR"""

import json
import sys
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

run = Path(sys.argv[1])
results = json.loads((run / "results.json").read_text())
xml = JUnitXml.fromfile(str(run / "junit.xml"))

cases = [case for suite in xml for case in suite]
outcomes = [c["outcome"] for c in results["cases"]]
counts = {
    "tests": len(cases),
    "failures": sum(1 for c in cases for r in c.result if isinstance(r, Failure)),
    "errors": sum(1 for c in cases for r in c.result if isinstance(r, Error)),
    "skipped": sum(1 for c in cases for r in c.result if isinstance(r, Skipped)),
}
expected = {
    "tests": len(outcomes),
    "failures": outcomes.count("failed"),
    "errors": outcomes.count("error"),
    "skipped": outcomes.count("skipped"),
}
assert counts == expected, f"junitparser read {counts}, results.json has {expected}"
diagnoses = [c.get("diagnosis") for c in results["cases"] if c["outcome"] == "failed" and c.get("diagnosis")]
messages = [r.message for c in cases for r in c.result if isinstance(r, Failure)]
assert all(d in messages for d in diagnoses), "every diagnosis is a failure message"
print(f"junit_check: {counts['tests']} testcases, {counts['failures']} failures, {counts['errors']} errors, "
      f"{counts['skipped']} skipped: equal to results.json")
