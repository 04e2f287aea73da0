"""Render the web app's bitmap icons (web/icons/*.png, favicon.ico) to match icon.svg: `python tests/web/make_icons.py`.

favicon.ico is what a browser asks for by itself at /favicon.ico; apple-touch-icon.png is full-bleed
(iOS rounds the corners itself and fills transparency with black).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

WEB = Path(__file__).resolve().parents[2] / "web" / "icons"
STOPS = ((0.0, (0xFF, 0x6A, 0x5C)), (0.55, (0xD9, 0x46, 0x8F)), (1.0, (0x7C, 0x4D, 0xFF)))
BARS = ((104, 216, 80), (172, 160, 192), (240, 112, 288), (308, 176, 160), (376, 224, 64))


def colour(t: float) -> tuple[int, int, int]:
    for (t0, c0), (t1, c1) in zip(STOPS, STOPS[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return tuple(round(a + (b - a) * f) for a, b in zip(c0, c1))
    return STOPS[-1][1]


def render(size: int, maskable: bool = False) -> Image.Image:
    scale = 4  # supersample for smooth edges
    n = size * scale
    grad = Image.new("RGB", (n, n))
    px = grad.load()
    for y in range(n):
        for x in range(n):
            px[x, y] = colour((x + y) / (2 * n))
    mask = Image.new("L", (n, n), 0)
    d = ImageDraw.Draw(mask)
    if maskable:
        d.rectangle((0, 0, n, n), fill=255)
    else:
        d.rounded_rectangle((0, 0, n - 1, n - 1), radius=116 * n // 512, fill=255)
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    k = n / 512 * (0.72 if maskable else 1.0)
    off = (n - 512 * k) / 2
    for x, y, h in BARS:
        d.rounded_rectangle((off + x * k, off + y * k, off + (x + 40) * k, off + (y + h) * k), radius=20 * k, fill="white")
    return img.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    render(192).save(WEB / "icon-192.png", optimize=True)
    render(512).save(WEB / "icon-512.png", optimize=True)
    render(512, maskable=True).save(WEB / "icon-maskable-512.png", optimize=True)
    render(180, maskable=True).convert("RGB").save(WEB / "apple-touch-icon.png", optimize=True)
    render(48).save(WEB / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
