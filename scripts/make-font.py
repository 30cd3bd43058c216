#!/usr/bin/python3
"""Derive assets/inkan-gothic.otf, the font the Inkan window draws with, from
IPAex Gothic (assets/fontsrc/ipaexg.ttf, IPA Font License v1.0).

One change, at the root of clipped descenders: IPAex Gothic's hhea and OS/2
typographic descender is -246 units (of 2048), but g, j, p, y, commas and
brackets reach down to -401, the font's own usWinDescent. Fyne (go-text) lays
out a line from hhea, so every descender hung 155 units below the text's box
and was cut off wherever a widget clips (entries, table cells, labels in a
scroller). Windows' GDI uses usWinDescent, so this makes every renderer agree
with it. Ascender stays 1802 (= usWinAscent).

A second change, for memory and start-up time: the font keeps the characters
Japanese office software on Windows writes, code page 932 (JIS X 0208 with the
NEC and IBM extensions, so 髙 and 﨑 of people's names stay), half-width kana,
ASCII, Latin-1 and Latin Extended-A, general punctuation, and drops the rest
of IPAex's 12,000 glyphs and its hinting (go-text, which draws Fyne's text,
does not hint). go-text parses the whole glyph table of each face it loads,
and Fyne loads the font once for every text style: the full font cost about
50 MB of heap and a third of a second before the first frame. For the same
reason the outlines are stored as CFF (cubic curves, an exact rewriting of the
quadratic ones): go-text keeps a glyf table parsed point by point, 6.8 MB of
heap for each text style, but CFF charstrings as they are, 2.8 MB; so the file
is an OpenType .otf.

The IPA Font License makes the result a Derived Program: it may not carry the
name IPA, so it is renamed "Inkan Gothic"; this script is the record of the
change (license article 5.1), and the licence ships beside it.

    /usr/bin/python3 scripts/make-font.py   # needs python3-fonttools (install-deps.sh)
"""
import os
import sys

from fontTools import subset
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "assets", "fontsrc", "ipaexg.ttf")
dst = os.path.join(here, "..", "assets", "inkan-gothic.otf")

font = TTFont(src, recalcTimestamp=False)  # the same bytes on every run
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

# The repertoire kept: code page 932 (double-byte and half-width kana),
# ASCII, Latin-1, Latin Extended-A, general punctuation and a few symbols.
keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) | set(range(0x2000, 0x2070))
keep |= {0x20AC, 0x2122, 0x2190, 0x2191, 0x2192, 0x2193}
# JIS X 0208's own Unicode mapping, which macOS, Linux and the server's texts use
# where code page 932 has a full-width form: 〜 (U+301C, not ～ U+FF5E), the
# minus sign U+2212 (not U+FF0D) and ∥ U+2225 (‖ U+2016 is in the range above).
# Without them Fyne drew 「8〜128文字」 with a system font, where one was installed.
keep |= {0x301C, 0x2212, 0x2225}
for lead in list(range(0x81, 0xA0)) + list(range(0xE0, 0xFD)):
    for trail in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
        try:
            keep |= {ord(c) for c in bytes([lead, trail]).decode("cp932")}
        except UnicodeDecodeError:
            pass
keep |= {ord(bytes([b]).decode("cp932")) for b in range(0xA1, 0xE0)}
cmap = font.getBestCmap()
opts = subset.Options()
opts.layout_features = ["kern", "palt", "halt", "liga", "ccmp", "locl"]
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.notdef_outline = True
opts.glyph_names = False
opts.hinting = False
sub = subset.Subsetter(opts)
sub.populate(unicodes=[c for c in keep if c in cmap])
sub.subset(font)

# Outlines as CFF (cubic) instead of glyf (quadratic): go-text keeps a glyf table
# parsed, point by point, for every face Fyne loads (one per text style), 6.8 MB
# of heap each; CFF charstrings it keeps as they are and reads when it draws a
# glyph, 2.8 MB a face. Each quadratic curve becomes the cubic one it is, its
# control points rounded to the font's units (1/2048 em).
glyphs = font.getGlyphSet()
hmtx = font["hmtx"].metrics
charstrings = {}
for name in font.getGlyphOrder():
    pen = T2CharStringPen(hmtx[name][0], glyphs)
    glyphs[name].draw(pen)
    charstrings[name] = pen.getCharString()
for table in ("glyf", "loca", "fpgm", "prep", "cvt ", "gasp"):
    if table in font:
        del font[table]
font.sfntVersion = "OTTO"
font["maxp"].tableVersion = 0x00005000
cff = FontBuilder(font=font)
cff.setupCFF("InkanGothic", {"FullName": "Inkan Gothic"}, charstrings, {})
font.save(dst)

check = TTFont(dst)
if check["hhea"].descent != descent:
    sys.exit("make-font: the descender did not change")
for ch in "髙﨑あア漢ｱgjpy〜":
    if ord(ch) not in check.getBestCmap():
        sys.exit(f"make-font: {ch} is missing from the font")
print(f"make-font: wrote {dst}: ascent {check['hhea'].ascent}, descent {check['hhea'].descent}, "
      f"{len(check.getGlyphOrder())} glyphs")
