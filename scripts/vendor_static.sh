#!/usr/bin/env bash
# Refreshes the vendored front-end files in static/vendor/ from the npm registry.
# The files are committed: branches run on closed intranets and pages never load from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack bootstrap@5.3.9 htmx.org@2.0.11 echarts@5.6.0 bootstrap-icons@1.13.2 >/dev/null)
for f in "$tmp"/*.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
v=static/vendor
mkdir -p $v/bootstrap $v/htmx $v/echarts $v/bootstrap-icons/fonts
cp "$tmp"/bootstrap-5.3.9/package/dist/css/bootstrap.min.css "$tmp"/bootstrap-5.3.9/package/dist/js/bootstrap.bundle.min.js "$tmp"/bootstrap-5.3.9/package/LICENSE $v/bootstrap/
cp "$tmp"/htmx.org-2.0.11/package/dist/htmx.min.js "$tmp"/htmx.org-2.0.11/package/LICENSE $v/htmx/
cp "$tmp"/echarts-5.6.0/package/dist/echarts.min.js "$tmp"/echarts-5.6.0/package/LICENSE $v/echarts/
cp "$tmp"/bootstrap-icons-1.13.2/package/font/bootstrap-icons.min.css "$tmp"/bootstrap-icons-1.13.2/package/LICENSE $v/bootstrap-icons/
cp "$tmp"/bootstrap-icons-1.13.2/package/font/fonts/bootstrap-icons.woff* $v/bootstrap-icons/fonts/
echo "static/vendor refreshed"
