"""The Report as JUnit XML: one testsuite per workflow, one testcase per check; unsupported-optional and
skipped checks are <skipped/>, failures carry the clause and the exchange."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path

from registry_toolkit.validate.outcome import Status
from registry_toolkit.validate.report import Report, failure_text


def to_xml(report: Report) -> ET.Element:
    root = ET.Element(
        "testsuites",
        name=f"registry-validate {report.target}",
        tests=str(len(report.results)),
        failures=str(len(report.failed)),
        time=f"{report.seconds:.3f}",
    )
    for workflow, grouped in groupby(report.results, key=lambda r: r.workflow):
        results = list(grouped)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=workflow,
            tests=str(len(results)),
            failures=str(sum(r.status is Status.FAIL for r in results)),
            skipped=str(sum(r.status in (Status.UNSUPPORTED, Status.SKIP) for r in results)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite, "testcase", name=result.check_id, classname=workflow, time=f"{result.seconds:.3f}"
            )
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="clause", value=result.clause)
            ET.SubElement(properties, "property", name="title", value=result.title)
            if result.status is Status.FAIL:
                failure = ET.SubElement(
                    case, "failure", message=result.message.splitlines()[0] if result.message else ""
                )
                failure.text = failure_text(result)
            elif result.status in (Status.UNSUPPORTED, Status.SKIP):
                ET.SubElement(case, "skipped", message=f"{result.status.value}: {result.message}")
    return root


def write(report: Report, path: Path) -> None:
    tree = ET.ElementTree(to_xml(report))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
