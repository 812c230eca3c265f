"""Decide in the review page, in headless Chromium driven by WebDriver (selenium).

    decide.py BIN INPUT DIR

Converts INPUT with --audit and --report into DIR, opens the page, decides three ambiguous codes
for all claims and one sample claim otherwise, reloads the page (the choices must come back from
local storage), downloads the decisions and converts again with them: the codes decided must be
decided, the claim's own decision must win for it, and the page must log nothing to the console.
"""
import csv
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

binary, claims, out = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
downloads = os.path.join(out, "downloads")
os.makedirs(downloads, exist_ok=True)


def convert(*args):
    run = subprocess.run([binary, "convert", claims, "-q", *args], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"crosswalk convert {' '.join(args)} failed: {run.stderr}")


convert("-o", f"{out}/first.csv", "--audit", f"{out}/review.csv", "--report", f"{out}/review.html")

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--window-size=1280,2000"):
    options.add_argument(flag)
options.add_argument(f"--user-data-dir={out}/profile")
options.add_experimental_option("prefs", {
    "download.default_directory": downloads,
    "download.prompt_for_download": False,
})
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
page = f"file://{out}/review.html"


def console():
    return [e for e in driver.get_log("browser")]


try:
    driver.get(page)
    logged = console()
    assert not logged, f"the page logged: {logged}"
    button = driver.find_element(By.ID, "download")
    assert not button.is_enabled(), "nothing to download before a decision"
    cards = [c for c in driver.find_elements(By.CSS_SELECTOR, "article.group")
             if c.find_element(By.CSS_SELECTOR, "div.decide").get_attribute("data-status") == "ambiguous"]
    assert len(cards) >= 3, f"{len(cards)} ambiguous cards"
    chosen = {}
    for card in cards[:3]:
        block = card.find_element(By.CSS_SELECTOR, "div.decide")
        select = Select(block.find_element(By.CSS_SELECTOR, "select.choice"))
        select.select_by_index(1)  # the first alternative
        key = (block.get_attribute("data-system"), block.get_attribute("data-code"))
        chosen[key] = select.first_selected_option.get_attribute("value")
    # One sample claim of the first card decided otherwise: its second alternative.
    first = cards[0]
    sample = first.find_element(By.CSS_SELECTOR, "ul.samples li")
    claim_select = Select(sample.find_element(By.CSS_SELECTOR, "select.claim-choice"))
    claim_select.select_by_index(2)
    override = {
        "value": claim_select.first_selected_option.get_attribute("value"),
        "row": int(sample.get_attribute("data-row")),
        "column": sample.get_attribute("data-column"),
    }
    assert override["value"] not in ("", "keep", "blank"), override
    # An overflow accepted, and a cell that is no code blanked (by its text).
    extra = {}
    for card in driver.find_elements(By.CSS_SELECTOR, "article.group"):
        block = card.find_element(By.CSS_SELECTOR, "div.decide")
        status, code = block.get_attribute("data-status"), block.get_attribute("data-code")
        want = "accept" if status == "overflow" else "blank" if status == "malformed" and not code else None
        if want and want not in extra.values():
            Select(block.find_element(By.CSS_SELECTOR, "select.choice")).select_by_value(want)
            extra[(block.get_attribute("data-system"), code or block.get_attribute("data-text"))] = want
    decisions = 4 + len(extra)
    told = driver.find_element(By.ID, "decided").text
    assert told == f"{decisions} decisions made.", told

    # The choices survive a reload, from local storage.
    driver.refresh()
    again = [c for c in driver.find_elements(By.CSS_SELECTOR, "article.group")
             if c.find_element(By.CSS_SELECTOR, "div.decide").get_attribute("data-status") == "ambiguous"]
    for card in again[:3]:
        block = card.find_element(By.CSS_SELECTOR, "div.decide")
        key = (block.get_attribute("data-system"), block.get_attribute("data-code"))
        value = Select(block.find_element(By.CSS_SELECTOR, "select.choice")).first_selected_option.get_attribute("value")
        assert value == chosen[key], (key, value, chosen[key])
    sample = again[0].find_element(By.CSS_SELECTOR, "ul.samples li")
    kept = Select(sample.find_element(By.CSS_SELECTOR, "select.claim-choice")).first_selected_option.get_attribute("value")
    assert kept == override["value"], (kept, override)

    driver.find_element(By.ID, "download").click()
    saved = os.path.join(downloads, "decisions.csv")
    for _ in range(100):
        if os.path.exists(saved) and not os.path.exists(saved + ".crdownload"):
            break
        time.sleep(0.1)
    else:
        sys.exit(f"no decisions.csv in {downloads}: {os.listdir(downloads)}")
    logged = console()
    assert not logged, f"the page logged: {logged}"
finally:
    driver.quit()

convert("-o", f"{out}/decided.csv", "--decisions", saved, "--audit", f"{out}/remaining.csv",
        "--summary", f"{out}/run.json")
run = json.load(open(f"{out}/run.json"))
assert run["decisions"]["loaded"] == decisions, run["decisions"]
assert run["decisions"]["unused"] == [], run["decisions"]["unused"]
remaining = {(r["system"], r["code"]) for r in csv.DictReader(open(f"{out}/remaining.csv", newline=""))
             if r["kind"] == "occurrence"}
remaining |= {(r["system"], r["original"]) for r in csv.DictReader(open(f"{out}/remaining.csv", newline=""))
              if r["kind"] == "occurrence" and not r["code"]}
for key in list(chosen) + list(extra):
    assert key not in remaining, f"{key} still to review"
rows = list(csv.DictReader(open(f"{out}/decided.csv", newline="")))
row = rows[override["row"] - 1]
written = row[override["column"]]
assert written.replace(".", "") == override["value"].replace(".", "").replace("+", ""), (written, override)
print(f"decided {len(chosen)} codes for all claims, {sorted(extra.values())}, and row {override['row']} {override['column']} "
      f"as {override['value']}; {run['decisions']['applied']} codes decided on re-conversion")
