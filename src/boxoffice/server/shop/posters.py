"""Posters drawn by the app: an SVG picture per name, the same every time for one name.

A catalog without pictures of its own (the demo's) points its `image` at
`/media/posters/<name>.svg`; the app draws it, so a shop page loads nothing from another
host. The name only seeds the drawing (colours and shapes from its SHA-256); it is never
written into the picture.
"""

import hashlib
import re

from boxoffice.server.errors import NotFound

POSTERS_PATH = "/media/posters"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
WIDTH, HEIGHT = 1200, 675
_SHAPES = 7


def poster_path(name: str) -> str:
    """The root-relative path of the poster `name` (a catalog's `image`)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a poster name: {name!r}")
    return f"{POSTERS_PATH}/{name}.svg"


def _hsl(byte: int, saturation: int, lightness: int) -> str:
    return f"hsl({byte * 360 // 256},{saturation}%,{lightness}%)"


def poster_svg(name: str) -> bytes:
    """The poster of `name` (lower-case letters, digits, `-`; else 404)."""
    if not _NAME.fullmatch(name):
        raise NotFound("Poster")
    digest = hashlib.sha256(name.encode()).digest()
    shapes = []
    for index in range(_SHAPES):
        x, y, size, hue = digest[4 + 4 * index : 8 + 4 * index]
        shapes.append(
            f'<circle cx="{x * WIDTH // 255}" cy="{y * HEIGHT // 255}" '
            f'r="{40 + size * 2}" fill="{_hsl(hue, 70, 60)}" fill-opacity=".55"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{_hsl(digest[0], 55, 30)}"/>'
        f'<stop offset="1" stop-color="{_hsl(digest[1], 60, 18)}"/>'
        "</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/>'
        + "".join(shapes)
        + f'<rect x="40" y="40" width="{WIDTH - 80}" height="{HEIGHT - 80}" fill="none" '
        f'stroke="{_hsl(digest[2], 30, 90)}" stroke-opacity=".6" stroke-width="6"/>'
        "</svg>"
    ).encode()
