"""axe-core, run in the page, finds nothing serious or critical on any page, in English or Indonesian, wide or narrow.

Every page of each audience (performer, studio, maintainer, the public; see ``walk.site_pages``)
is loaded as that person sees it and checked by axe-core (the npm package pinned in package.json,
installed by ``npm ci``). A finding names the page, the rule and the elements, so that the
template can be fixed.
"""

from __future__ import annotations

from typing import Any

import pytest

from .walk import AXE, Walked, axe_violations, build_world, walked

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def _described(pages: list[Walked]) -> str:
    lines = []
    for walked_page in pages:
        for violation in walked_page.axe:
            lines.append(f"{walked_page.where}: {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"][:5]:
                lines.append(f"    {node['target']}  {node['html']}")
                lines.append("      " + node["summary"].replace("\n", "\n      "))
            if len(violation["nodes"]) > 5:
                lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def test_axe_runs_under_the_sites_content_security_policy_and_reports_what_it_finds(
    page: Any, live_server: Any, console: list[str]
) -> None:
    """The check below would pass vacuously if axe never ran: here it must find planted faults."""
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` at the repository root"
    page.goto(live_server.url + "/")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
        '<img src="/static/none.png"><button type="button"></button>')"""
    )

    found = {violation["id"]: violation for violation in axe_violations(page)}

    assert {"image-alt", "button-name"} <= set(found)
    assert found["image-alt"]["impact"] == "critical"
    assert [line for line in console if "Content Security Policy" in line] == []


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "id"])
def test_no_page_has_a_serious_or_critical_accessibility_finding(
    browser: Any, live_server: Any, language: str, width: int
) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` at the repository root"
    pages = walked(browser, live_server.url, build_world, language, width)

    assert len(pages) >= 30
    failing = [p for p in pages if p.axe]
    assert not failing, "\n" + _described(failing)
