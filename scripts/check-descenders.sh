#!/usr/bin/env bash
# Clipped descenders, checked on the real window (issue 10): the real inkan under
# Xvfb at 200 % (FYNE_SCALE=2) opens 電子証明書取得, and its お客様ID field is
# shot empty and again holding "(gjpy,)", each time with the keyboard on the
# キャンセル button (no caret anywhere). The two shots differ only by that text's
# ink, whose height must be what the font says the glyphs reach, from the top of
# the brackets to the bottom of g j p y and the comma (fontTools reads the
# bundled font). An entry that clips its text's descenders, as every entry did
# with IPAex Gothic's metrics, shows an ink shorter by the clipped part:
# 155 of 2048 units, 2 px at this scale.
#
#   scripts/check-descenders.sh [INKAN_BINARY]   # Xvfb, xdotool, imagemagick, python3-fonttools
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check-descenders: FAIL: $*" >&2; exit 1; }

inkan="${1:-}"
if [ -z "$inkan" ]; then
  go build -o "$work/inkan" ./cmd/inkan
  inkan="$work/inkan"
fi
go build -o "$work/inkan-server" ./cmd/inkan-server
export INKAN_CA_PASSPHRASE="check-descenders demo passphrase"
"$work/inkan-server" init --demo --data "$work/data" --bank-code 1376 --bank-name "いんかん信用金庫" > /dev/null
"$work/inkan-server" agent-config --data "$work/data" --url "https://127.0.0.1:9" --out "$work/bank.json" > /dev/null

probe='(gjpy,)'
scale=2
# The ink the font gives the probe, in pixels: Fyne's text is 14 units a em.
expected=$(/usr/bin/python3 - "$probe" "$scale" <<'EOF'
import sys
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
font = TTFont("assets/inkan-gothic.otf")
glyphs, cmap, em = font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm
bounds = []
for c in sys.argv[1]:
    pen = BoundsPen(glyphs)
    glyphs[cmap[ord(c)]].draw(pen)
    bounds.append(pen.bounds)
top = max(b[3] for b in bounds)
bottom = min(b[1] for b in bounds)
print(f"{(top - bottom) / em * 14 * float(sys.argv[2]):.1f}")
EOF
)

Xvfb -displayfd 3 -screen 0 1600x1200x24 -nolisten tcp 3> "$work/display" 2> "$work/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || fail "Xvfb did not start"
export DISPLAY=":$(head -n1 "$work/display")"

HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=ja_JP.UTF-8 FYNE_SCALE=$scale \
  "$inkan" --config "$work/bank.json" --store "dir:$work/store" --lang ja > "$work/inkan.log" 2>&1 &
pids+=($!)
win=""
for _ in $(seq 100); do win=$(xdotool search --name "Inkan" 2>/dev/null | head -n1) && [ -n "$win" ] && break; sleep 0.2; done
[ -n "$win" ] || fail "no Inkan window"
sleep 2
key() { xdotool key --window "$win" --clearmodifiers "$@"; sleep 0.7; }
key Return        # 電子証明書取得 has the keyboard on a PC without certificates
key Tab Tab       # お客様ID → ログインパスワード → キャンセル
import -window "$win" "$work/empty.png"
key shift+Tab shift+Tab
xdotool type --window "$win" --delay 60 "$probe"
sleep 0.5
key Tab Tab
import -window "$win" "$work/probe.png"

compare -fuzz 12% "$work/empty.png" "$work/probe.png" -compose src -highlight-color black -lowlight-color white "$work/diff.png" 2>/dev/null || true
read -r width height < <(convert "$work/diff.png" -trim -format '%w %h\n' info:)
[ "$width" -gt 20 ] || fail "the typed text did not show (ink ${width}x${height} px); see the screenshots in ${KEEP:-a kept directory with KEEP=dir}"
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/*.png "$KEEP"/; fi
awk -v h="$height" -v e="$expected" 'BEGIN {
  printf "check-descenders: ink of the typed text %d px tall, the font says %.1f px\n", h, e
  exit !(h >= e - 1) }' || fail "the entry cuts off the text's descenders (${height} px of ink, the glyphs reach ${expected} px)"
echo "check-descenders: OK"
