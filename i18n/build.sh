#!/usr/bin/env bash
# Rebuild the translation sources i18n/deal_<lang>.ts from the plugin's code (pylupdate5) and
# compile them to the .qm files the plugin loads (lrelease). Existing translations are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
LRELEASE=$(command -v lrelease || echo /usr/lib/qt5/bin/lrelease)
mapfile -t SOURCES < <(find deal_qgis -name '*.py' -not -path '*/__pycache__/*' | sort)
for lang in fr zh; do
  ts="i18n/deal_${lang}.ts"
  work=$(mktemp -d)
  # pylupdate5 files bare tr() calls under the context "@default"; the plugin translates in
  # context "DEAL" (deal_qgis/translation.py), so rename on the way in and out.
  if [ -f "$ts" ]; then sed 's#<name>DEAL</name>#<name>@default</name>#' "$ts" > "$work/in.ts"; fi
  pylupdate5 -noobsolete "${SOURCES[@]}" -ts "$work/in.ts" 2>/dev/null
  sed 's#<name>@default</name>#<name>DEAL</name>#' "$work/in.ts" > "$ts"
  rm -rf "$work"
  "$LRELEASE" -silent "$ts" -qm "i18n/deal_${lang}.qm"
done
echo "translations: $(ls i18n/*.qm | tr '\n' ' ')"
