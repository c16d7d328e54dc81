"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a real gunicorn server on PostgreSQL:
sign in, open a project, sort its runs by a metric, open a run and see its chart drawn from the logged points, preview
an image the run saved, compare two runs, and follow the links MLflow's client prints
(`/#/experiments/<id>/runs/<run_id>`); share a project with a second account who accepts the invitation and then sees
it, and make a token in the UI that logs a run through MLflow's REST API. No page may log an error to the console,
which is where a Content-Security-Policy refusal (an inline script, a style) shows, and axe-core (systemtests/vendor/,
injected by the test, never served) finds no serious or critical accessibility violation on any page it checks.

Screenshots of each step go to systemtests/screenshots/ (git-ignored; UI_SCREENSHOTS=folder to choose), printed at the
end. Skipped, saying so, when Chromium is not installed (`apt-get install -y chromium`).
"""

import json
import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from systemtests.harness import PASSWORD, PROJECT_ROOT, register, register_and_login, request
from systemtests.test_artifacts import raw

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
# axe-core, vendored for the tests only (bin/vendor): injected into each page by the browser, never served by the site.
AXE = PROJECT_ROOT / "systemtests" / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const results = await axe.run(document);
  return {
    passed: results.passes.length,
    violations: results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    })),
  };
}"""
# Three runs, each with a loss history whose last value orders them: sorted by loss (descending, as a number column
# sorts first), then ascending.
RUNS = {"slow": 0.75, "fast": 0.25, "middle": 0.5}
STEPS = 40


def loss_history(final: float) -> list[float]:
    return [round(final + (STEPS - 1 - step) / STEPS, 6) for step in range(STEPS)]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG image of one colour (written here: the test's environment has no imaging library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


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
    plot = f"/api/2.0/mlflow-artifacts/artifacts/{project_id}/{run_ids['fast']}/artifacts/plots/loss.png"
    status, _, body = raw(port, "PUT", plot, token, png(120, 80, (11, 99, 196)))
    assert status == 200, body
    return project_id, run_ids


def screenshots_folder() -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOTS") or PROJECT_ROOT / "systemtests" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(browser, console_errors: list[str]):
    """A page in a context of its own (its own cookies), with axe-core loaded into every document and console errors
    collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # An init script is the browser's own, so the pages' Content-Security-Policy neither refuses nor counts it.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    return page


def accessibility_problems(page, name: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands."""
    results = page.evaluate(AXE_RUN)
    # A check that ran: axe found rules that apply and pass (a page it could not read would pass none).
    assert results["passed"] > 10, f"{name}: axe-core checked {results['passed']} rules"
    return [
        f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes']}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/ui/signin")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")


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
    inaccessible: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = new_page(browser, console_errors)

            # Opening the root as a browser leads to sign-in.
            page.goto(base + "/")
            page.wait_for_url(f"{base}/ui/signin**")
            page.fill("#id_username", "alice@example.com")
            page.fill("#id_password", PASSWORD)
            inaccessible += accessibility_problems(page, "sign-in")
            page.screenshot(path=folder / "1-signin.png")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui/")
            expect(page.get_by_test_id("current-user")).to_have_text("alice")
            expect(page.get_by_test_id("projects")).to_contain_text("vision")
            inaccessible += accessibility_problems(page, "projects")
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
            inaccessible += accessibility_problems(page, "runs table")
            page.screenshot(path=folder / "3-runs-sorted-by-loss.png", full_page=True)
            # The address holds the table: opening it again shows the same.
            page.goto(page.url)
            assert run_names(page) == ["fast", "middle", "slow"]
            # The filter box: MLflow's search grammar, a refusal said in words, then a filter that keeps two runs.
            page.fill("#id_filter", "metrics.loss <")
            page.press("#id_filter", "Enter")
            expect(page.get_by_test_id("filter-error")).to_contain_text("This filter was not understood")
            page.fill("#id_filter", "metrics.loss < 0.6")
            page.press("#id_filter", "Enter")
            expect(page.locator("#runs tbody td.name")).to_have_count(2)
            assert run_names(page) == ["fast", "middle"]
            expect(page).to_have_url(re.compile(r"[?&]filter=metrics\.loss(\+|%20)%3C(\+|%20)0\.6(&|$)"))
            inaccessible += accessibility_problems(page, "runs table filtered")
            page.screenshot(path=folder / "3b-runs-filtered.png", full_page=True)

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
            inaccessible += accessibility_problems(page, "run")
            page.screenshot(path=folder / "4-run.png", full_page=True)

            # The image the run saved, previewed from its files.
            page.click("text=Files the run saved")
            page.click("text=plots/")
            page.click("text=loss.png")
            image = page.get_by_test_id("preview").locator("img")
            expect(image).to_have_attribute("alt", "loss.png")
            image.evaluate("image => image.decode()")
            assert image.evaluate("image => [image.naturalWidth, image.naturalHeight]") == [120, 80]
            inaccessible += accessibility_problems(page, "artifact preview")
            page.screenshot(path=folder / "4b-artifact-image.png", full_page=True)

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
            inaccessible += accessibility_problems(page, "compare")
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
    assert inaccessible == []


def test_share_a_project_accept_the_invitation_make_a_token_and_log_a_run_with_it(postgres, start_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium): the browser test cannot run.")
    from playwright.sync_api import expect, sync_playwright

    server = start_server(postgres)
    base = f"http://127.0.0.1:{server.port}"
    alice = register_and_login(server.port, "alice")["access"]
    register(server.port, "bob")
    project = request(server.port, "POST", "/projects/", data={"name": "shared vision"}, token=alice)
    assert project.status == 201, project.text
    project_id = project.json()["id"]
    folder = screenshots_folder()
    console_errors: list[str] = []
    inaccessible: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # alice, the owner, invites bob as an editor from the sharing page.
            owner = new_page(browser, console_errors)
            sign_in(owner, base, "alice")
            owner.goto(f"{base}/ui/projects/{project_id}")
            owner.click("text=Sharing")
            owner.wait_for_url(f"{base}/ui/projects/{project_id}/sharing")
            owner.fill("#id_user", "bob@example.com")
            owner.select_option("#id_role", "editor")
            owner.click("form[action$='/sharing/invite'] button[type=submit]")
            owner.wait_for_url(f"{base}/ui/projects/{project_id}/sharing")
            expect(owner.get_by_test_id("sent-invitations")).to_contain_text("bob")
            inaccessible += accessibility_problems(owner, "sharing")
            owner.screenshot(path=folder / "7-sharing.png", full_page=True)

            # bob sees the invitation counted in the header, accepts it, and sees the project.
            guest = new_page(browser, console_errors)
            sign_in(guest, base, "bob")
            expect(guest.get_by_test_id("invitation-count")).to_have_text("1")
            expect(guest.locator("main")).not_to_contain_text("shared vision")
            guest.get_by_test_id("invitations-link").click()
            guest.wait_for_url(f"{base}/ui/invitations")
            inaccessible += accessibility_problems(guest, "invitations")
            guest.screenshot(path=folder / "8-invitations.png", full_page=True)
            guest.click("button[aria-label='Accept the invitation to shared vision']")
            guest.wait_for_url(f"{base}/ui/projects/{project_id}")
            expect(guest.get_by_test_id("invitation-count")).to_have_count(0)
            guest.goto(f"{base}/ui/")
            expect(guest.get_by_test_id("projects")).to_contain_text("shared vision")
            expect(guest.get_by_test_id("projects")).to_contain_text("editor")

            # bob makes a token, shown once with the lines for MLflow, and logs a run with it over MLflow's REST API.
            guest.goto(f"{base}/ui/tokens")
            inaccessible += accessibility_problems(guest, "tokens")
            guest.fill("#id_name", "laptop")
            guest.select_option("#id_scope", "write")
            guest.fill("#id_expires_in_days", "30")
            guest.click("form[action$='/ui/tokens'] button[type=submit]")
            secret = guest.get_by_test_id("token-secret").inner_text().strip()
            assert re.fullmatch(r"reg_pat_[A-Za-z0-9_-]{43}", secret)
            expect(guest.get_by_test_id("mlflow-lines")).to_have_text(
                f"export MLFLOW_TRACKING_URI={base}\nexport MLFLOW_TRACKING_TOKEN={secret}"
            )
            inaccessible += accessibility_problems(guest, "token created")
            guest.screenshot(path=folder / "9-token-created.png", full_page=True)

            created = request(
                server.port,
                "POST",
                "/api/2.0/mlflow/runs/create",
                data={"experiment_id": str(project_id), "run_name": "from-the-laptop"},
                token=secret,
            )
            assert created.status == 200, created.text
            run_id = created.json()["run"]["info"]["run_id"]
            metric = {"run_id": run_id, "key": "loss", "value": 0.125, "timestamp": 1_700_000_000_000, "step": 3}
            logged = request(server.port, "POST", "/api/2.0/mlflow/runs/log-metric", data=metric, token=secret)
            assert logged.status == 200, logged.text

            # The run shows in the shared project, for its owner too; the token's last use is recorded.
            owner.goto(f"{base}/ui/projects/{project_id}")
            assert run_names(owner) == ["from-the-laptop"]
            owner.click("#runs tbody a:text-is('from-the-laptop')")
            owner.wait_for_url(f"{base}/ui/runs/{run_id}")
            expect(owner.locator("main")).to_contain_text("0.125")
            # bob is now a member on alice's sharing page, with his role and term to change.
            owner.goto(f"{base}/ui/projects/{project_id}/sharing")
            expect(owner.get_by_test_id("member-bob").locator("select")).to_have_value("editor")
            inaccessible += accessibility_problems(owner, "sharing with a member")
            owner.screenshot(path=folder / "11-sharing-with-a-member.png", full_page=True)
            guest.goto(f"{base}/ui/tokens")
            expect(guest.get_by_test_id("tokens")).not_to_contain_text("never")
            expect(guest.locator("main")).not_to_contain_text(secret)

            guest.goto(f"{base}/ui/account")
            inaccessible += accessibility_problems(guest, "account")
            guest.screenshot(path=folder / "10-account.png", full_page=True)
            anonymous = new_page(browser, console_errors)
            anonymous.goto(f"{base}/ui/password/forgot")
            inaccessible += accessibility_problems(anonymous, "forgot password")
        finally:
            browser.close()

    print(f"\nScreenshots of the web UI: {folder}")
    assert console_errors == []
    assert inaccessible == []
