#!/bin/sh
# Install Debian's chromium for the end-to-end tests (tests/e2e) when /usr/bin/chromium is
# missing. The tests drive it with Playwright (executable_path=/usr/bin/chromium): Playwright's
# own browser downloads do not work here, so never run `playwright install`.
# Runs apt-get as root, or through sudo when it is available without a password; otherwise
# it says what to run and exits 0 (the browser tests then skip, which fails under CI=true).
set -eu

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-chromium: $CHROMIUM is missing and this user cannot install packages;" >&2
    echo "  run: sudo apt-get install -y --no-install-recommends chromium" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: no apt-get here; install Chromium so that $CHROMIUM exists" >&2
    exit 0
fi

echo "install-chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
test -x "$CHROMIUM"
