#!/usr/bin/env bash
# The browser of the dashboard's browser tests (tests/integration/test_browser.py): Debian's chromium and
# the chromedriver built from the same source. Selenium is pointed at /usr/bin/chromedriver and
# /usr/bin/chromium explicitly, so Selenium Manager never downloads a driver or a browser.
# Idempotent: when both are installed at the same version this only asks dpkg.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PACKAGES=(chromium chromium-driver)

# installed_version PKG -> the installed version, empty when PKG is not (fully) installed.
installed_version() {
  { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null || true; } | sed -n 's/^ii *//p'
}

browser=$(installed_version chromium)
driver=$(installed_version chromium-driver)
# A driver from another chromium release refuses the browser ("only supports Chrome version N").
if [ -n "$browser" ] && [ "$browser" = "$driver" ] && [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  step "chromium $browser and chromedriver already installed"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "installing ${PACKAGES[*]} needs root (apt-get); run: sudo apt-get install ${PACKAGES[*]}"
step "installing ${PACKAGES[*]} from Debian (no recommends: the headless tests need no desktop extras)"
# Installed together, so apt picks one version for both; fonts-liberation gives pages metric-compatible fonts.
apt_install --no-install-recommends "${PACKAGES[@]}" fonts-liberation

browser=$(installed_version chromium)
driver=$(installed_version chromium-driver)
if [ -z "$browser" ] || [ "$browser" != "$driver" ]; then
  die "chromium ($browser) and chromium-driver ($driver) are not installed at one version"
fi
/usr/bin/chromedriver --version >/dev/null || die "/usr/bin/chromedriver does not run"
step "chromium $browser and $(/usr/bin/chromedriver --version | cut -d' ' -f1-2) installed"
