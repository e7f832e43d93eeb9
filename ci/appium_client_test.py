"""A third-party Appium client (Appium-Python-Client, from PyPI) against `harness sim serve`.

Run by ci/test.sh with HARNESS_SIM_URL set to a running virtual farm. It signs in, force-quits,
relaunches and reads the auth state on both platforms, using only what a user of Appium would.
"""

import base64
import os
import unittest

from appium import webdriver
from appium.options.common import AppiumOptions
from appium.webdriver.common.appiumby import AppiumBy
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ.get("HARNESS_SIM_URL", "http://127.0.0.1:4723")
BUNDLE = "com.harness.clerkconvex"


def session(platform, **knobs):
    ios = platform == "iOS"
    opts = AppiumOptions()
    opts.set_capability("platformName", platform)
    opts.set_capability("appium:automationName", "XCUITest" if ios else "UiAutomator2")
    opts.set_capability("appium:bundleId" if ios else "appium:appPackage", BUNDLE)
    opts.set_capability("harness:options", {"latencyScale": 0.05, **knobs})
    return webdriver.Remote(URL, options=opts)


def app_arg(driver):
    return {"bundleId": BUNDLE} if driver.capabilities["platformName"] == "iOS" else {"appId": BUNDLE}


def wait_for(driver, test_id, timeout=10):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.find_element(AppiumBy.ACCESSIBILITY_ID, test_id)
    )


def sign_in(driver):
    wait_for(driver, "screen-sign-in")
    driver.find_element(AppiumBy.ACCESSIBILITY_ID, "auth-identifier").send_keys("demo@harness.dev")
    driver.find_element(AppiumBy.ACCESSIBILITY_ID, "auth-continue").click()
    driver.find_element(AppiumBy.ACCESSIBILITY_ID, "auth-password").send_keys("correct horse")
    driver.find_element(AppiumBy.ACCESSIBILITY_ID, "auth-continue").click()
    wait_for(driver, "screen-home")


def relaunch(driver):
    ios = driver.capabilities["platformName"] == "iOS"
    assert driver.execute_script("mobile: terminateApp", app_arg(driver)) is True
    assert driver.execute_script("mobile: queryAppState", app_arg(driver)) == 1
    driver.execute_script("mobile: launchApp" if ios else "mobile: activateApp", app_arg(driver))
    assert driver.execute_script("mobile: queryAppState", app_arg(driver)) == 4


def convex_authenticated(driver):
    el = WebDriverWait(driver, 10, poll_frequency=0.05).until(
        lambda d: d.find_element(AppiumBy.ID, "convex-authenticated")
        if d.find_element(AppiumBy.ID, "convex-authenticated").text in ("true",)
        else False
    )
    return el.text == "true"


class SignInSurvivesColdStart(unittest.TestCase):
    def check_platform(self, platform, source_marker, log_type):
        # restoreRate 1.0 makes the iOS cold start deterministic for this client test.
        driver = session(platform, restoreRate=1.0)
        try:
            sign_in(driver)
            self.assertTrue(convex_authenticated(driver))
            session_id = driver.find_element(AppiumBy.ID, "session-id").text
            self.assertTrue(session_id.startswith("sess_"), session_id)
            relaunch(driver)
            wait_for(driver, "screen-home")
            self.assertEqual(driver.find_element(AppiumBy.ID, "session-id").text, session_id)
            self.assertEqual(driver.find_element(AppiumBy.ID, "clerk-signed-in").text, "true")
            self.assertTrue(convex_authenticated(driver))
            source = driver.page_source
            self.assertIn(source_marker, source)
            self.assertIn("screen-home", source)
            png = driver.get_screenshot_as_png()
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            logs = [entry["message"] for entry in driver.get_log(log_type)]
            self.assertTrue(any("bootstrap: configure resolved" in m for m in logs), logs[-5:])
        finally:
            driver.quit()

    def test_ios(self):
        self.check_platform("iOS", "XCUIElementTypeStaticText", "syslog")

    def test_android(self):
        self.check_platform("Android", "android.widget.TextView", "logcat")

    def test_ios_lost_session_shows_sign_in_again(self):
        driver = session("iOS", restoreRate=0.0)
        try:
            sign_in(driver)
            relaunch(driver)
            wait_for(driver, "screen-sign-in")
            entries = driver.execute_script("mobile: virtualSecureStore", {})
            keys = {(e["service"], e["key"]) for e in entries}
            self.assertIn(("app:no-auth", "__clerk_client_jwt"), keys, "the token is still in the keychain")
        finally:
            driver.quit()

    def test_android_secure_store_file(self):
        driver = session("Android")
        try:
            sign_in(driver)
            xml = base64.b64decode(
                driver.execute_script("mobile: pullFile", {"remotePath": f"@{BUNDLE}/shared_prefs/SecureStore.xml"})
            ).decode()
            self.assertIn('name="key_v1-__clerk_client_jwt"', xml)
            self.assertIn("&quot;scheme&quot;:&quot;aes&quot;", xml)
        finally:
            driver.quit()

    def test_errors_are_w3c(self):
        driver = session("Android")
        try:
            with self.assertRaises(NoSuchElementException):
                driver.find_element(AppiumBy.ACCESSIBILITY_ID, "no-such-thing")
            with self.assertRaises(WebDriverException) as e:
                driver.execute_script("mobile: clearKeychains", {})
            self.assertIn("unknown mobile command", str(e.exception))
            with self.assertRaises(WebDriverException) as e:
                driver.execute_script("mobile: terminateApp", {"bundleId": BUNDLE})
            self.assertIn("'appId'", str(e.exception))
        finally:
            driver.quit()


if __name__ == "__main__":
    unittest.main(verbosity=2)
