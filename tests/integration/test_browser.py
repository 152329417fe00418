"""The dashboard in a real browser: Debian's headless chromium, driven by selenium through Debian's
chromedriver, against the stack's web UI once the bundled sample is loaded. Expected values come from
ground truth computed straight from the sample file.

Only loopback is reached: the web URL must be a loopback address, and the browser (devstack/browser.py,
shared with the render benchmark) sends everything else to a dead proxy (so a page that fetched anything
from outside would log a console error here) and never runs Selenium Manager, which would download a
driver. `toolchain/browser.sh` installs chromium and chromedriver; without them the module is skipped.

Every page a test checks is saved as a full-page PNG in $CLICKSTREAM_SCREENSHOTS, else in `screenshots/`
under pytest's temporary folder for the run (printed when the module ends); a failed test adds
`FAILED-<test>.png` of the page it stopped on.

Sankey nodes are fixed in place (webui/charts.py): Chromium fires no click on a draggable node
(plotly.js#3297), so a test clicks a node as well as a flow.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from loadtests.target import loopback
from devstack import browser
from tests.conftest import ground_truth, read_sample
from tests.integration.helpers import api
from webui.charts import shorten, source_label

if browser.missing():
    pytest.skip(f"browser tests {browser.missing()}", allow_module_level=True)

pytestmark = pytest.mark.stack

LANG, MONTH = "en", "2024-11"
#: Longest wait for one thing to show up: a page's first render reads Cassandra on a busy 2-core machine.
RENDER_SECONDS = 45
#: Rows each way in the article's tables and Sankey (webui.pages.article.LIMIT).
LIMIT = 20
#: Where screenshots go; unset, a `screenshots` folder in the run's pytest temporary folder.
SCREENSHOTS_ENV = "CLICKSTREAM_SCREENSHOTS"


def pretty(title: str) -> str:
    return title.replace("_", " ")


@pytest.fixture(scope="module")
def truth():
    return ground_truth(read_sample())


@pytest.fixture(scope="module")
def web(sample_loaded) -> str:
    url = sample_loaded["webUrl"].rstrip("/")
    assert loopback(url), f"the browser only opens this machine's web UI, not {url}"
    return url


@pytest.fixture(scope="module")
def driver():
    chromium = browser.chrome()
    try:
        yield chromium
    finally:
        chromium.quit()


@pytest.fixture(scope="module")
def screenshots(request, tmp_path_factory) -> Path:
    """The folder the module's screenshots go to; named on the terminal when the module is done."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path_factory.getbasetemp() / "screenshots").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    shots = sorted(p.name for p in folder.glob("*.png"))
    line = f"browser screenshots ({len(shots)}) in {folder}: {', '.join(shots)}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured, and shown only on failure
        reporter.write(f"\n{line}\n")  # ends the line of dots or of the last result first


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, driver, screenshots):
    """A failed test leaves a picture of the page it stopped on (the call's failure is counted by then)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        try:
            name = re.sub(r"[^\w.-]+", "_", request.node.name)  # a parameter may hold / < > ...
            browser.screenshot(driver, screenshots / f"FAILED-{name}.png")
        except Exception as err:  # noqa: BLE001 - a missing picture must not hide the failure itself
            print(f"no screenshot of the failed page: {err}")


def shoot(driver, folder: Path, name: str) -> None:
    """Save the page on show as `name`.png once its callbacks are done: called after a test's checks."""
    browser.settle(driver)
    browser.screenshot(driver, folder / f"{name}.png")


@pytest.fixture(autouse=True)
def console(driver):
    """Start each test with an empty console log (reading the log drains it)."""
    driver.get_log("browser")


def assert_no_console_errors(driver):
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], "browser console errors:\n" + "\n".join(e["message"] for e in severe)


def wait(driver, condition, what: str, seconds: float = RENDER_SECONDS):
    """Wait until `condition(driver)` is truthy and return it; a re-rendered element is retried. A timeout
    fails with the console's errors, which usually say why the page never got there."""
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2,
                             ignored_exceptions=[StaleElementReferenceException]).until(condition)
    except TimeoutException:
        pass
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    pytest.fail(f"no {what} within {seconds} s at {driver.current_url}; browser console errors:\n"
                + ("\n".join(errors) or "none"))


def text(element) -> str:
    """An element's text as the DOM holds it (SVG text and cells hidden by a loading overlay included)."""
    return (element.get_attribute("textContent") or "").strip()


def wait_for_article(driver, title: str, seconds: float = RENDER_SECONDS):
    """Wait until the article panel shows `title` and return its headline."""
    def shown(d):
        found = d.find_elements(By.CSS_SELECTOR, "#article-result p.headline")
        return found[0] if found and text(found[0].find_element(By.TAG_NAME, "strong")) == pretty(title) else None
    return wait(driver, shown, f"article panel for {title}", seconds)


def table_rows(driver, heading: str, container: str = "article-result"):
    """Body rows (lists of cells) of the table in the card headed `heading` (the text beside its "#" link),
    once it has rows. Tables are DataTables: their header row is a row of `th` in the same tbody, so only
    rows with `td` count."""
    xpath = f"//*[@id='{container}']//section[h3/text()='{heading}']//table//tr[td]"
    return wait(driver, lambda d: [row.find_elements(By.TAG_NAME, "td") for row in d.find_elements(By.XPATH, xpath)],
                f"rows in the '{heading}' table")


def query(driver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


def article_url(web: str, title: str) -> str:
    return f"{web}/?" + urlencode({"title": title, "lang": LANG, "month": MONTH})


def wait_for_title_value(driver, title: str):
    """Until the title picker shows `title`. The article panel comes with the page's layout, while the
    dropdown mounts once its own script has loaded: after a reload it can lag the headline."""
    wait(driver, lambda d: any(text(e) == pretty(title) for e in d.find_elements(By.ID, "article-title-value")),
         f"{title} in the title picker")


def wait_for_url_title(driver, title: str):
    wait(driver, lambda d: query(d).get("title") == title, f"title={title} in the address bar")
    assert (query(driver)["lang"], query(driver)["month"]) == (LANG, MONTH)


def sankey_nodes(driver) -> list[str]:
    return [text(node) for node in driver.find_elements(By.CSS_SELECTOR, "#article-sankey .sankey-node .node-label")]


def single_source_article(truth: dict) -> tuple[str, str]:
    """(article, source): the most-read article whose every click in comes from one other article and
    that has no click out, so its Sankey is one flow between two nodes."""
    candidates = [(a["incoming_total"], title, a["incoming"][0]["title"]) for title, a in truth.items()
                  if len(a["incoming"]) == 1 and not a["incoming"][0]["title"].startswith("other-")
                  and not a["outgoing"]]
    _, title, source = max(candidates)
    return title, source


def test_article_page_shows_ground_truth(driver, web, truth, screenshots):
    main = truth["Main_Page"]
    driver.get(article_url(web, "Main_Page"))
    headline = text(wait_for_article(driver, "Main_Page"))
    assert f"{LANG} · {MONTH}" in headline
    assert f"{main['incoming_total']:,} clicks in" in headline and f"{main['outgoing_total']:,} clicks out" in headline
    assert f"{len(main['incoming']):,} sources · {len(main['outgoing']):,} destinations" in headline

    incoming = table_rows(driver, "Top sources")
    assert len(incoming) == min(LIMIT, len(main["incoming"]))
    top = main["incoming"][0]
    assert [text(cell) for cell in incoming[0][:3]] == [source_label(top["title"]), top["type"], f"{top['n']:,}"]
    outgoing = table_rows(driver, "Top destinations")
    assert [text(row[0]) for row in outgoing] == [source_label(r["title"]) for r in main["outgoing"][:LIMIT]]

    # The Sankey (top 20 by default): the article, its top sources and destinations by their friendly
    # labels, cut as the chart cuts them, and a folded node for each side's rest.
    wait(driver, sankey_nodes, "Sankey nodes")
    rest_in = main["incoming_total"] - sum(r["n"] for r in main["incoming"][:LIMIT])
    rest_out = main["outgoing_total"] - sum(r["n"] for r in main["outgoing"][:LIMIT])
    expected = ([shorten(pretty("Main_Page"))] + [shorten(source_label(r["title"])) for r in main["incoming"][:LIMIT]]
                + ["Other sources"] * (rest_in > 0)
                + [shorten(source_label(r["title"])) for r in main["outgoing"][:LIMIT]]
                + ["Other destinations"] * (rest_out > 0))
    assert sorted(sankey_nodes(driver)) == sorted(expected)
    assert driver.find_elements(By.CSS_SELECTOR, "#article-sankey svg.main-svg .sankey-link")

    # The source-mix treemap, its biggest box the biggest source with its click count.
    boxes = "//section[@id='source-mix']//*[contains(@class, 'treemap')]//*[@class='slicetext' and @data-unformatted]"
    slices = wait(driver, lambda d: [s.get_attribute("data-unformatted") for s in d.find_elements(By.XPATH, boxes)],
                  "treemap boxes")
    assert "All clicks in" in slices
    assert any(s.startswith(f"No referrer<br>{main['sources']['other-empty']:,}") for s in slices), slices
    assert_no_console_errors(driver)
    shoot(driver, screenshots, "article")


def test_chosen_article_lives_in_the_url_and_survives_a_reload(driver, web, truth, screenshots):
    """Re-centre through a link in the destinations table: the address bar follows, and that URL,
    opened again, shows the same article."""
    driver.get(article_url(web, "Main_Page"))
    wait_for_article(driver, "Main_Page")
    nxt = truth["Main_Page"]["outgoing"][0]["title"]
    link = table_rows(driver, "Top destinations")[0][0].find_element(By.TAG_NAME, "a")
    assert text(link) == pretty(nxt)
    link.click()
    headline = text(wait_for_article(driver, nxt))
    assert f"{truth[nxt]['incoming_total']:,} clicks in" in headline
    wait_for_url_title(driver, nxt)
    wait_for_title_value(driver, nxt)

    shared = driver.current_url
    driver.refresh()
    wait_for_article(driver, nxt)
    wait_for_title_value(driver, nxt)
    driver.get(shared)  # as someone the link was sent to opens it
    wait_for_article(driver, nxt)
    assert query(driver)["title"] == nxt
    assert_no_console_errors(driver)
    shoot(driver, screenshots, "article-reopened")


def open_single_source_article(driver, web, truth) -> tuple[str, str]:
    article, source = single_source_article(truth)
    driver.get(article_url(web, article))
    wait_for_article(driver, article)
    return article, source


def click_and_expect_recentred(driver, screenshots, element, title: str, shot: str, **wait_kwargs) -> None:
    ActionChains(driver).move_to_element(element).pause(0.2).click().perform()
    wait_for_article(driver, title, **wait_kwargs)
    wait_for_url_title(driver, title)
    assert_no_console_errors(driver)
    shoot(driver, screenshots, shot)


def test_clicking_a_sankey_flow_recentres(driver, web, truth, screenshots):
    _, source = open_single_source_article(driver, web, truth)
    (flow,) = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#article-sankey .sankey-link"), "Sankey flow")
    click_and_expect_recentred(driver, screenshots, flow, source, "article-after-flow-click")


def test_clicking_a_sankey_node_recentres(driver, web, truth, screenshots):
    _, source = open_single_source_article(driver, web, truth)
    node = wait(driver, lambda d: [n for n in d.find_elements(By.CSS_SELECTOR, "#article-sankey .sankey-node")
                                   if text(n.find_element(By.CSS_SELECTOR, ".node-label")) == pretty(source)],
                "Sankey node")[0]
    # A flow click re-centres in about a second; a node that needs longer did not fire its click.
    click_and_expect_recentred(driver, screenshots, node.find_element(By.CSS_SELECTOR, ".node-rect"), source,
                               "article-after-node-click", seconds=10)


def test_autocomplete_suggests_and_opens_a_title(driver, web, truth, screenshots):
    start = truth["Main_Page"]["outgoing"][0]["title"]  # any article whose title does not start with "Main"
    driver.get(article_url(web, start))
    wait_for_article(driver, start)
    # As a reader types once the page has drawn: the picker mounts only once its own script has loaded,
    # which on a busy machine can lag the headline, and a re-render meanwhile closes an open picker.
    wait(driver, lambda d: d.find_elements(By.ID, "article-title"), "title picker")
    browser.settle(driver, timeout=RENDER_SECONDS)
    driver.find_element(By.ID, "article-title").click()
    box = wait(driver, lambda d: next((e for e in d.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-content input.dash-dropdown-search") if e.is_displayed()), None),
        "title search box")
    box.send_keys("Main")

    def option(d):
        for opt in d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content .dash-dropdown-option"):
            if opt.find_element(By.TAG_NAME, "input").get_attribute("value") == "Main_Page":
                return opt
        return None
    suggestion = wait(driver, option, "suggestion Main_Page")
    assert text(suggestion) == pretty("Main_Page")
    shoot(driver, screenshots, "autocomplete")
    suggestion.click()
    headline = text(wait_for_article(driver, "Main_Page"))
    wait_for_url_title(driver, "Main_Page")
    assert_shows_the_api_article(driver, headline, web, "Main_Page")
    assert_no_console_errors(driver)


def assert_shows_the_api_article(driver, headline: str, web: str, title: str) -> None:
    """The headline totals and both tables, row by row with each share, equal what the JSON API returns."""
    status, found = api({"webUrl": web}, "article", title=title, lang=LANG, month=MONTH, limit=LIMIT)
    assert status == 200, found
    assert f"{found['incoming_total']:,} clicks in · {found['outgoing_total']:,} clicks out" in headline
    for heading, rows, total in (("Top sources", found["incoming"], found["incoming_total"]),
                                 ("Top destinations", found["outgoing"], found["outgoing_total"])):
        shown = [[text(cell) for cell in row] for row in table_rows(driver, heading)]
        assert shown == [[source_label(r["title"]), r["type"], f"{r['n']:,}", f"{r['n'] / total:.1%}"]
                         for r in rows], heading


@pytest.mark.parametrize("title, shot", [
    pytest.param("<script>alert(1)</script>", "article-script-title", id="script"),
    pytest.param("A_b\"c'&<i>x</i>", "article-markup-title", id="markup"),
])
def test_a_title_that_looks_like_markup_is_shown_as_typed(driver, web, screenshots, title, shot):
    """Not in the sample, so the page says so and names the title: as text, underscores as spaces,
    never run or parsed as HTML, and kept exactly in the address bar."""
    driver.get(article_url(web, title))
    message = wait(driver, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "#article-result .notice")
                                           if text(e)), None), "the not-found message")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 - reading it is the check: a script that ran would have opened one
    said = f"No clickstream rows for “{pretty(title)}” in {LANG} {MONTH}."
    assert text(message).startswith(said) and message.text.startswith(said)  # in the DOM and on screen
    assert not driver.find_elements(By.CSS_SELECTOR, "#article-result script, #article-result i")
    wait_for_title_value(driver, title)
    assert query(driver)["title"] == title
    assert_no_console_errors(driver)
    shoot(driver, screenshots, shot)


def test_month_page_lists_the_most_read_articles(driver, web, truth, screenshots):
    rows = read_sample()
    ranked = sorted(((t, a["incoming_total"]) for t, a in truth.items() if a["incoming_total"]),
                    key=lambda kv: (-kv[1], kv[0]))
    driver.get(f"{web}/month?lang={LANG}&month={MONTH}")
    top = table_rows(driver, "Most read", container="month-result")
    headline = text(driver.find_element(By.CSS_SELECTOR, "#month-result p.headline"))
    assert headline == f"{LANG} · {MONTH} · {sum(r[3] for r in rows):,} clicks over {len(rows):,} distinct links"
    assert [text(cell) for cell in top[0][:3]] == ["1", "Main Page", f"{ranked[0][1]:,}"]
    assert [(text(r[1]), text(r[2])) for r in top[:10]] == [(pretty(t), f"{n:,}") for t, n in ranked[:10]]
    assert top[0][1].find_element(By.TAG_NAME, "a").get_attribute("href").endswith(
        f"/?title=Main_Page&lang={LANG}&month={MONTH}")
    assert_no_console_errors(driver)
    shoot(driver, screenshots, "month")


def test_a_link_to_a_section_opens_the_page_at_that_section(driver, web, truth):
    driver.get(article_url(web, "Main_Page") + "#likely-paths")
    # The page's panels are drawn after it loads and grow it; it follows the section down as they do,
    # so the page is scrolled and the section's heading is in the window.
    # (Until Dash has drawn the page there is no section: false, not a script error, which would end the wait.)
    at_section = """const section = document.getElementById('likely-paths');
        const top = section ? section.getBoundingClientRect().top : -1e9;
        return window.scrollY > 0 && top >= -2 && top < window.innerHeight - 40;"""
    wait(driver, lambda d: d.execute_script(at_section), "scroll to the #likely-paths section")
    heading_link = driver.find_element(By.CSS_SELECTOR, "#likely-paths h3 a.anchor")
    assert heading_link.get_attribute("href").endswith("#likely-paths")
    assert_no_console_errors(driver)


def test_ingestion_page_shows_the_completed_load(driver, web, screenshots):
    rows = read_sample()
    driver.get(f"{web}/ingestion")

    def load_row(d):
        for cell in d.find_elements(By.CSS_SELECTOR, "#ingestion-table td[data-dash-column='lang']"):
            r = cell.get_attribute("data-dash-row")
            row = {c.get_attribute("data-dash-column"): text(c)
                   for c in d.find_elements(By.CSS_SELECTOR, f"#ingestion-table td[data-dash-row='{r}']")}
            if (row.get("lang"), row.get("month")) == (LANG, MONTH):
                return row
        return None
    row = wait(driver, load_row, f"ingestion row for {LANG} {MONTH}")
    assert row["status"] == "complete"
    assert (row["rows_accepted"], row["rows_rejected"]) == (f"{len(rows):,}", "0")
    assert_no_console_errors(driver)
    shoot(driver, screenshots, "ingestion")
