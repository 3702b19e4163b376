"""favicon.ico is drawn from the same mark and colours as favicon.svg (the teal tile, the
terracotta roof, white walls), not from an older palette, and stays small."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

STATIC = Path(__file__).resolve().parents[2] / "krov" / "core" / "static" / "krov"


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _svg_colours() -> dict[str, tuple[int, int, int]]:
    svg = (STATIC / "favicon.svg").read_text(encoding="utf-8")
    tile = re.search(r'<rect[^>]*fill="(#[0-9a-f]{6})"', svg)
    strokes = re.findall(r'stroke="(#[0-9a-f]{6})"', svg)
    assert tile and strokes  # the roof comes first
    return {"tile": _hex(tile[1]), "roof": _hex(strokes[0])}


def _close(a: tuple[int, ...], b: tuple[int, ...], slack: int = 6) -> bool:
    return all(abs(x - y) <= slack for x, y in zip(a[:3], b[:3], strict=True))


def test_favicon_ico_has_the_svg_marks_colours_at_every_size():
    colours = _svg_colours()
    with Image.open(STATIC / "favicon.ico") as icon:
        sizes = icon.ico.sizes()
        images = {size: icon.ico.getimage(size).convert("RGBA") for size in sizes}
    assert sizes == {(16, 16), (32, 32), (48, 48)}
    for size, image in images.items():
        counts = sorted(image.getcolors(size[0] * size[1]), reverse=True)
        assert _close(counts[0][1], colours["tile"]), (size, counts[0])
        if size != (16, 16):  # at 16 px the roof's stroke is all edge, blended with the tile
            assert any(_close(c, colours["roof"], 24) for _n, c in counts), size


def test_favicon_ico_stays_small():
    assert (STATIC / "favicon.ico").stat().st_size < 6 * 1024
