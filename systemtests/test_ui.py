"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a real gunicorn server on PostgreSQL:
sign in, open a project, sort its runs by a metric, open a run and see its chart drawn from the logged points, compare
two runs, and follow the links MLflow's client prints (`/#/experiments/<id>/runs/<run_id>`). No page may log an error
to the console, which is where a Content-Security-Policy refusal (an inline script, a style) shows.

Screenshots of each step go to systemtests/screenshots/ (git-ignored; UI_SCREENSHOTS=folder to choose), printed at the
end. Skipped, saying so, when Chromium is not installed (`apt-get install -y chromium`).
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from systemtests.harness import PASSWORD, PROJECT_ROOT, register_and_login, request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
# Three runs, each with a loss history whose last value orders them: sorted by loss (descending, as a number column
# sorts first), then ascending.
RUNS = {"slow": 0.75, "fast": 0.25, "middle": 0.5}
STEPS = 40


def loss_history(final: float) -> list[float]:
    return [round(final + (STEPS - 1 - step) / STEPS, 6) for step in range(STEPS)]


def seed(port: int) -> tuple[int, dict[str, str]]:
    """alice's project "vision" with RUNS, each with a `lr` parameter and a loss history; its id and the run ids."""
    token = register_and_login(port, "alice")["access"]
    project = request(port, "POST", "/projects/", data={"name": "vision"}, token=token)
    assert project.status == 201, project.text
    project_id = project.json()["id"]
    run_ids = {}
    for name, final in RUNS.items():
        body = {"name": name, "project": project_id, "status": "running", "parameters": {"lr": str(final / 10)}}
        run = request(port, "POST", "/experiments/", data=body, token=token)
        assert run.status == 201, run.text
        points = [{"key": "loss", "value": value, "step": step} for step, value in enumerate(loss_history(final))]
        logged = request(port, "POST", f"/experiments/{run.json()['id']}/metrics/", data=points, token=token)
        assert logged.status == 201, logged.text
        run_ids[name] = run.json()["run_id"]
    note = {"run_id": run_ids["fast"], "key": "mlflow.note.content", "value": "<b>best</b> so far"}
    tagged = request(port, "POST", "/api/2.0/mlflow/runs/set-tag", data=note, token=token)
    assert tagged.status == 200, tagged.text
    return project_id, run_ids


def screenshots_folder() -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOTS") or PROJECT_ROOT / "systemtests" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_names(page) -> list[str]:
    return page.locator("#runs tbody td.name").all_inner_texts()


def test_sign_in_sort_by_a_metric_open_a_run_see_its_chart_and_follow_mlflow_links(postgres, start_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium): the browser test cannot run.")
    from playwright.sync_api import expect, sync_playwright

    server = start_server(postgres)
    base = f"http://127.0.0.1:{server.port}"
    project_id, run_ids = seed(server.port)
    folder = screenshots_folder()
    console_errors: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
            page.on("pageerror", lambda error: console_errors.append(str(error)))

            # Opening the root as a browser leads to sign-in.
            page.goto(base + "/")
            page.wait_for_url(f"{base}/ui/signin**")
            page.fill("#id_username", "alice@example.com")
            page.fill("#id_password", PASSWORD)
            page.screenshot(path=folder / "1-signin.png")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui/")
            expect(page.get_by_test_id("current-user")).to_have_text("alice")
            expect(page.locator("table.grid")).to_contain_text("vision")
            page.screenshot(path=folder / "2-projects.png", full_page=True)

            # The project's runs, newest first; show the loss column, then sort by it (through htmx).
            page.click("text=vision")
            page.wait_for_url(f"{base}/ui/projects/{project_id}")
            assert run_names(page) == ["middle", "fast", "slow"]
            page.check("input[name=metric][value=loss]")
            expect(page.locator("#runs th[data-column='metric:loss']")).to_be_visible()
            expect(page).to_have_url(re.compile(r"[?&]metric=loss(&|$)"))
            page.click("#runs th[data-column='metric:loss'] a")
            expect(page.locator("#runs th[data-column='metric:loss']")).to_have_attribute("aria-sort", "descending")
            assert run_names(page) == ["slow", "middle", "fast"]
            expect(page).to_have_url(re.compile(r"[?&]sort=-metric%3Aloss(&|$)"))
            page.click("#runs th[data-column='metric:loss'] a")
            expect(page.locator("#runs th[data-column='metric:loss']")).to_have_attribute("aria-sort", "ascending")
            assert run_names(page) == ["fast", "middle", "slow"]
            page.screenshot(path=folder / "3-runs-sorted-by-loss.png", full_page=True)
            # The address holds the table: opening it again shows the same.
            page.goto(page.url)
            assert run_names(page) == ["fast", "middle", "slow"]

            # A run: its chart is drawn from the history endpoint, which returned every logged point.
            with page.expect_response(lambda response: "/metric-history?key=loss" in response.url) as answer:
                page.click("#runs tbody a:text-is('fast')")
            history = json.loads(answer.value.body())
            assert history["steps"] == list(range(STEPS))
            assert history["values"] == loss_history(RUNS["fast"])
            page.wait_for_url(f"{base}/ui/runs/{run_ids['fast']}")
            expect(page.locator("figure.chart[data-key='loss'] canvas")).to_have_count(1)
            expect(page.locator("figure.chart[data-key='loss']")).to_have_attribute("data-points", str(STEPS))
            expect(page.get_by_test_id("note")).to_have_text("<b>best</b> so far")
            # Hovering the chart shows the values under the cursor in its legend.
            legend = page.locator("figure.chart[data-key='loss'] .u-legend .u-series:nth-child(2) .u-value")
            expect(legend).to_have_text("--")
            box = page.locator("figure.chart[data-key='loss'] .u-over").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            expect(legend).not_to_have_text("--")
            assert float(legend.inner_text()) in loss_history(RUNS["fast"])
            page.screenshot(path=folder / "4-run.png", full_page=True)

            # MLflow's printed links, whose part after # only the page's script sees.
            page.goto(f"{base}/#/experiments/{project_id}/runs/{run_ids['slow']}")
            page.wait_for_url(f"{base}/ui/runs/{run_ids['slow']}")
            expect(page.locator("h1")).to_have_text("slow")
            page.goto(f"{base}/#/experiments/{project_id}")
            page.wait_for_url(f"{base}/ui/projects/{project_id}")

            # Two runs compared: a line each in one chart.
            page.check("input[name=run][aria-label='Compare fast']")
            page.check("input[name=run][aria-label='Compare slow']")
            page.click("text=Compare selected runs")
            page.wait_for_url(f"{base}/ui/projects/{project_id}/compare?**")
            chart = page.locator("figure.chart[data-key='loss']")
            expect(chart.locator("canvas")).to_have_count(1)
            expect(chart).to_have_attribute("data-points", str(2 * STEPS))
            expect(chart.locator(".u-legend .u-series")).to_have_count(3)
            page.screenshot(path=folder / "5-compare.png", full_page=True)

            # A phone-sized screen in the dark.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, color_scheme="dark")
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/ui/runs/{run_ids['fast']}")
            expect(phone.locator("figure.chart canvas")).to_have_count(1)
            phone.screenshot(path=folder / "6-run-phone-dark.png", full_page=True)
        finally:
            browser.close()

    print(f"\nScreenshots of the web UI: {folder}")
    assert console_errors == []
