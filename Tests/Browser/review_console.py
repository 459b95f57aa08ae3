"""Drives the review console in headless Chromium (Selenium 4, chromedriver from Debian's chromium-driver).

Input (JSON in $AIRLOCK_TEST_INPUT): base URL, reviewer token, optional screenshot directory. Prints one
`@@RESULT@@ {json}` line: ok, the steps passed, and the first failure.
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

config = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
base = config["base"]
token = config["token"]
shots = config.get("screenshots")
steps = []


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    steps.append(message)


def follow(element):
    """Clicks a link or submit button and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(page))


options = Options()
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(15)
result = {"ok": False}
try:
    # Refused without a token: the sign-in form, no records.
    driver.get(base + "/decisions")
    check(driver.find_elements(By.ID, "login") and not driver.find_elements(By.ID, "decisions"),
          "without a session the console shows the sign-in form only")

    # A forged session cookie is refused too.
    driver.add_cookie({"name": "airlock-review", "value": "f" * 64, "path": "/"})
    driver.get(base + "/decisions")
    check(driver.find_elements(By.ID, "login") and not driver.find_elements(By.ID, "decisions"),
          "a forged session cookie is refused")
    driver.delete_all_cookies()

    # A wrong token is refused; the right one signs in.
    driver.get(base + "/login")
    driver.find_element(By.ID, "token").send_keys("not-the-token")
    follow(driver.find_element(By.ID, "sign-in"))
    check("not a reviewer" in driver.find_element(By.ID, "problem").text, "a wrong token is refused")
    driver.find_element(By.ID, "token").send_keys(token)
    follow(driver.find_element(By.ID, "sign-in"))
    check(driver.find_elements(By.ID, "chains"), "the right token signs in and shows the overview")
    session = driver.get_cookie("airlock-review")
    check(session and session.get("httpOnly") and session.get("sameSite") == "Strict",
          "the session cookie is HttpOnly and SameSite=Strict")
    if shots:
        driver.set_window_size(1200, 560)
        driver.save_screenshot(os.path.join(shots, "review-overview.png"))
        driver.set_window_size(1400, 1000)

    # Filter, then page.
    driver.get(base + "/decisions")
    driver.find_element(By.NAME, "vendor").send_keys("scale")
    follow(driver.find_element(By.ID, "apply"))
    summary = driver.find_element(By.ID, "summary").text
    check("page 1 of 2" in summary, "filtering by vendor leaves two pages: " + summary)
    vendors = {row.find_elements(By.TAG_NAME, "td")[1].text
               for row in driver.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")}
    check(vendors == {"scale"}, "every listed row is the filtered vendor")
    follow(driver.find_element(By.ID, "next"))
    check("page 2 of 2" in driver.find_element(By.ID, "summary").text, "the next link keeps the filter and pages on")
    follow(driver.find_element(By.ID, "previous"))
    check("page 1 of 2" in driver.find_element(By.ID, "summary").text, "the previous link goes back")

    # Open a record and find the highlighted placeholders and pseudonyms.
    driver.get(base + "/decisions?vendor=scale&client=labeling-pipeline")
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "a.record")
             if a.get_attribute("href").endswith("/marked-1")]
    check(links, "the marked record is listed")
    follow(links[0])
    placeholders = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#body mark.placeholder")]
    pseudonyms = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#body mark.pseudonym")]
    check(placeholders == ["[REDACTED:CODENAME]"], "the placeholder is highlighted: %r" % placeholders)
    check(pseudonyms == ["EMAIL_ABCDEFG234", "CODENAME_QWERTY7"], "the pseudonyms are highlighted: %r" % pseudonyms)
    body_text = driver.find_element(By.ID, "body").text
    check("<script>document.title='pwned'</script>" in body_text, "the stored script shows as text")
    if shots:
        driver.set_window_size(1200, 1400)
        driver.save_screenshot(os.path.join(shots, "review-record.png"))
        driver.set_window_size(1400, 1000)

    # Markup in a record's fields and body stays inert: no script ran, no image element exists.
    driver.get(base + "/records/0/hostile-1")
    check(driver.title != "pwned" and "pwned" not in driver.title, "no planted script or handler ran")
    check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no planted element exists")
    check("document.title='pwned'" in driver.find_element(By.ID, "fields").text,
          "the planted subject shows as text")

    # CSV export of the filtered list, fetched with the browser's session cookie.
    driver.get(base + "/decisions?reason=policy-block")
    href = driver.find_element(By.ID, "export-csv").get_attribute("href")
    check("reason=policy-block" in href, "the CSV link carries the filter")
    request = urllib.request.Request(href, headers={"Cookie": "airlock-review=" + session["value"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        csv_text = response.read().decode()
        check(response.headers["Content-Type"].startswith("text/csv"), "the export is CSV")
    lines = [line for line in csv_text.split("\r\n") if line]
    check(len(lines) == 2 and "blocked-1" in lines[1], "the CSV holds the filtered record only")

    # Logging out ends the session.
    driver.get(base + "/")
    follow(driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
    driver.get(base + "/decisions")
    check(driver.find_elements(By.ID, "login"), "after logging out the console asks to sign in again")

    errors = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
              and "favicon" not in entry.get("message", "") and "401" not in entry.get("message", "")]
    check(not errors, "no console errors (CSP violations included): %r" % errors[:3])
    result = {"ok": True}
except Exception as error:  # reported, not raised: the Swift test prints it
    result = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
finally:
    driver.quit()
result["steps"] = steps
print("@@RESULT@@ " + json.dumps(result))
