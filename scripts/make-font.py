#!/usr/bin/python3
"""Derive assets/inkan-gothic.ttf, the font the Inkan window draws with, from
IPAex Gothic (assets/fontsrc/ipaexg.ttf, IPA Font License v1.0).

One change, at the root of clipped descenders: IPAex Gothic's hhea and OS/2
typographic descender is -246 units (of 2048), but g, j, p, y, commas and
brackets reach down to -401, the font's own usWinDescent. Fyne (go-text) lays
out a line from hhea, so every descender hung 155 units below the text's box
and was cut off wherever a widget clips (entries, table cells, labels in a
scroller). Windows' GDI uses usWinDescent, so this makes every renderer agree
with it. Ascender stays 1802 (= usWinAscent).

The IPA Font License makes the result a Derived Program: it may not carry the
name IPA, so it is renamed "Inkan Gothic"; this script is the record of the
change (license article 5.1), and the licence ships beside it.

    /usr/bin/python3 scripts/make-font.py   # needs python3-fonttools (install-deps.sh)
"""
import os
import sys

from fontTools.ttLib import TTFont

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "assets", "fontsrc", "ipaexg.ttf")
dst = os.path.join(here, "..", "assets", "inkan-gothic.ttf")

font = TTFont(src)
os2, hhea = font["OS/2"], font["hhea"]
descent = -os2.usWinDescent
hhea.ascent = os2.sTypoAscender = os2.usWinAscent
hhea.descent = os2.sTypoDescender = descent
hhea.lineGap = os2.sTypoLineGap = 0

names = font["name"]
for rec in names.names:
    if rec.nameID in (1, 3, 4, 6, 16):
        text = rec.toUnicode()
        if rec.nameID == 6:
            new = "InkanGothic"
        elif rec.nameID == 3:
            new = "InkanGothic-derived-from-IPAexGothic-00401"
        else:
            new = "Inkan Gothic"
        rec.string = new if "IPA" in text or rec.nameID in (3, 6) else text
    elif rec.nameID in (5,):
        rec.string = rec.toUnicode() + "; Inkan: hhea/typo descender set to usWinDescent"
font.save(dst)

check = TTFont(dst)
if check["hhea"].descent != descent:
    sys.exit("make-font: the descender did not change")
print(f"make-font: wrote {dst}: ascent {check['hhea'].ascent}, descent {check['hhea'].descent}")
