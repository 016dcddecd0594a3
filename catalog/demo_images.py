"""Product pictures for the demo catalog, drawn here: each product as a simple studio shot.

The demo has no photographs to ship (nothing is downloaded at run time), so each product is
drawn with Pillow's shapes on a soft backdrop, at twice the size and scaled down for smooth
edges. A name without a drawing gets the backdrop and its name.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

SIZE = 800
SCALE = 2
S = SIZE * SCALE

Color = tuple[int, int, int]
Draw = ImageDraw.ImageDraw


def _p(*values: float) -> list[float]:
    """Coordinates given as fractions of the canvas."""
    return [v * S for v in values]


def _xy(x: float, y: float) -> tuple[float, float]:
    return (x * S, y * S)


def _rounded(
    d: Draw, box: tuple[float, float, float, float], r: float, fill: Color, outline: Color | None = None
) -> None:
    d.rounded_rectangle(
        _p(*box), radius=r * S, fill=fill, outline=outline, width=int(0.006 * S) if outline else 0
    )


def _shadow(d: Draw, x0: float, x1: float, y: float) -> None:
    d.ellipse(_p(x0, y - 0.025, x1, y + 0.025), fill=(0, 0, 0, 38))


def _earbuds(d: Draw) -> None:
    _shadow(d, 0.22, 0.78, 0.74)
    _rounded(d, (0.26, 0.42, 0.74, 0.73), 0.12, (245, 245, 247), (200, 200, 206))
    d.line(_p(0.27, 0.52, 0.73, 0.52), fill=(200, 200, 206), width=int(0.006 * S))
    d.ellipse(_p(0.485, 0.6, 0.515, 0.63), fill=(80, 200, 120))
    for cx in (0.36, 0.62):
        d.ellipse(
            _p(cx - 0.07, 0.22, cx + 0.07, 0.36),
            fill=(250, 250, 252),
            outline=(190, 190, 198),
            width=int(0.006 * S),
        )
        _rounded(d, (cx - 0.025, 0.3, cx + 0.025, 0.44), 0.02, (250, 250, 252), (190, 190, 198))


def _keyboard(d: Draw) -> None:
    _shadow(d, 0.1, 0.9, 0.72)
    _rounded(d, (0.1, 0.34, 0.9, 0.7), 0.04, (44, 48, 58))
    for row in range(4):
        for col in range(12):
            x = 0.135 + col * 0.0605
            y = 0.38 + row * 0.07
            _rounded(
                d, (x, y, x + 0.05, y + 0.055), 0.01, (226, 228, 233) if (row + col) % 7 else (255, 153, 0)
            )
    _rounded(d, (0.32, 0.66 - 0.0, 0.68, 0.675), 0.005, (44, 48, 58))
    _rounded(d, (0.3, 0.64, 0.7, 0.67), 0.01, (226, 228, 233))


def _hub(d: Draw) -> None:
    d.line(_p(0.05, 0.62, 0.22, 0.55), fill=(60, 60, 66), width=int(0.025 * S))
    _shadow(d, 0.2, 0.86, 0.66)
    _rounded(d, (0.22, 0.44, 0.86, 0.62), 0.05, (170, 174, 182))
    _rounded(d, (0.23, 0.45, 0.85, 0.53), 0.04, (196, 200, 208))
    for i, w in enumerate((0.07, 0.05, 0.05, 0.04, 0.04, 0.03, 0.03)):
        x = 0.3 + i * 0.078
        _rounded(d, (x, 0.55, x + w, 0.585), 0.006, (40, 42, 48))


def _ssd(d: Draw) -> None:
    _shadow(d, 0.26, 0.74, 0.77)
    _rounded(d, (0.3, 0.22, 0.7, 0.74), 0.06, (36, 40, 52))
    _rounded(d, (0.34, 0.52, 0.66, 0.66), 0.02, (230, 80, 40))
    d.ellipse(_p(0.48, 0.28, 0.52, 0.32), fill=(80, 220, 255))
    font = ImageFont.load_default(size=int(0.06 * S))
    d.text(_xy(0.5, 0.59), "1 TB", font=font, fill=(255, 255, 255), anchor="mm")


def _coffee(d: Draw) -> None:
    _shadow(d, 0.24, 0.76, 0.8)
    d.polygon(_p(0.3, 0.46, 0.7, 0.46, 0.74, 0.78, 0.26, 0.78), fill=(215, 235, 245), outline=(150, 180, 195))
    d.polygon(_p(0.285, 0.62, 0.715, 0.62, 0.735, 0.775, 0.265, 0.775), fill=(110, 62, 36))
    d.polygon(_p(0.28, 0.2, 0.72, 0.2, 0.56, 0.44, 0.44, 0.44), fill=(250, 250, 248), outline=(200, 200, 196))
    _rounded(d, (0.24, 0.18, 0.76, 0.22), 0.02, (250, 250, 248), (200, 200, 196))


def _skillet(d: Draw) -> None:
    _shadow(d, 0.08, 0.8, 0.76)
    d.ellipse(_p(0.1, 0.26, 0.62, 0.74), fill=(34, 34, 36))
    d.ellipse(_p(0.14, 0.3, 0.58, 0.7), fill=(58, 58, 62))
    _rounded(d, (0.6, 0.46, 0.92, 0.54), 0.04, (34, 34, 36))
    d.ellipse(_p(0.85, 0.48, 0.89, 0.52), fill=(240, 238, 232))


def _bottle(d: Draw) -> None:
    _shadow(d, 0.34, 0.66, 0.88)
    _rounded(d, (0.36, 0.24, 0.64, 0.87), 0.08, (20, 140, 150))
    _rounded(d, (0.4, 0.14, 0.6, 0.26), 0.03, (40, 44, 52))
    _rounded(d, (0.36, 0.5, 0.64, 0.62), 0.0, (16, 118, 128))


def _chef(d: Draw) -> None:
    _shadow(d, 0.2, 0.8, 0.82)
    for cx, cy, r in ((0.36, 0.36, 0.13), (0.5, 0.28, 0.15), (0.64, 0.36, 0.13)):
        d.ellipse(
            _p(cx - r, cy - r, cx + r, cy + r),
            fill=(252, 252, 250),
            outline=(215, 215, 210),
            width=int(0.006 * S),
        )
    _rounded(d, (0.3, 0.4, 0.7, 0.66), 0.02, (252, 252, 250), (215, 215, 210))
    _rounded(d, (0.3, 0.6, 0.7, 0.66), 0.0, (230, 80, 40))
    d.line(_p(0.2, 0.78, 0.8, 0.7), fill=(160, 160, 168), width=int(0.02 * S))


def _tickets(d: Draw) -> None:
    font = ImageFont.load_default(size=int(0.05 * S))
    for (x, y), color in (((0.18, 0.26), (220, 60, 70)), ((0.3, 0.44), (255, 153, 0))):
        _rounded(d, (x, y, x + 0.52, y + 0.26), 0.03, color)
        for cy in (y + 0.13,):
            d.ellipse(_p(x - 0.03, cy - 0.03, x + 0.03, cy + 0.03), fill=(0, 0, 0, 0))
        d.line(_p(x + 0.38, y + 0.02, x + 0.38, y + 0.24), fill=(255, 255, 255), width=int(0.005 * S))
        d.text(_xy(x + 0.19, y + 0.13), "ADMIT ONE", font=font, fill=(255, 255, 255), anchor="mm")


def _hoodie(d: Draw) -> None:
    body = (35, 47, 62)
    _shadow(d, 0.2, 0.8, 0.86)
    d.polygon(
        _p(
            0.3,
            0.24,
            0.7,
            0.24,
            0.88,
            0.6,
            0.8,
            0.64,
            0.7,
            0.45,
            0.7,
            0.84,
            0.3,
            0.84,
            0.3,
            0.45,
            0.2,
            0.64,
            0.12,
            0.6,
        ),
        fill=body,
    )
    d.ellipse(_p(0.38, 0.14, 0.62, 0.34), fill=(28, 38, 50))
    _rounded(d, (0.38, 0.64, 0.62, 0.76), 0.03, (28, 38, 50))
    font = ImageFont.load_default(size=int(0.09 * S))
    d.text(_xy(0.5, 0.5), "A", font=font, fill=(255, 153, 0), anchor="mm")


def _stickers(d: Draw) -> None:
    font = ImageFont.load_default(size=int(0.05 * S))
    for cx, cy, r, color, text in (
        (0.34, 0.36, 0.14, (255, 153, 0), "A"),
        (0.64, 0.34, 0.12, (60, 130, 246), "{ }"),
        (0.5, 0.62, 0.15, (236, 72, 153), "ship it"),
        (0.24, 0.66, 0.09, (34, 197, 94), "ok"),
        (0.76, 0.64, 0.1, (139, 92, 246), "<3"),
    ):
        d.ellipse(
            _p(cx - r, cy - r, cx + r, cy + r), fill=color, outline=(255, 255, 255), width=int(0.012 * S)
        )
        d.text(_xy(cx, cy), text, font=font, fill=(255, 255, 255), anchor="mm")


def _yoga(d: Draw) -> None:
    _shadow(d, 0.12, 0.88, 0.74)
    _rounded(d, (0.2, 0.44, 0.8, 0.72), 0.0, (126, 87, 194))
    d.ellipse(_p(0.08, 0.44, 0.32, 0.72), fill=(110, 72, 180))
    for r in (0.1, 0.07, 0.04):
        d.arc(_p(0.2 - r, 0.58 - r, 0.2 + r, 0.58 + r), 0, 360, fill=(150, 115, 214), width=int(0.008 * S))
    _rounded(d, (0.48, 0.4, 0.52, 0.76), 0.0, (60, 60, 66))


def _voucher(d: Draw) -> None:
    _shadow(d, 0.16, 0.84, 0.74)
    _rounded(d, (0.16, 0.3, 0.84, 0.72), 0.04, (250, 246, 238), (220, 205, 180))
    for angle_box in (
        (0.42, 0.36, 0.5, 0.58),
        (0.5, 0.36, 0.58, 0.58),
        (0.36, 0.44, 0.5, 0.6),
        (0.5, 0.44, 0.64, 0.6),
    ):
        d.ellipse(_p(*angle_box), fill=(110, 180, 140))
    font = ImageFont.load_default(size=int(0.05 * S))
    d.text(_xy(0.5, 0.66), "GIFT VOUCHER", font=font, fill=(120, 90, 50), anchor="mm")


DRAWINGS: dict[str, tuple[Callable[[Draw], None], Color]] = {
    "Wireless Earbuds": (_earbuds, (214, 228, 255)),
    "Mechanical Keyboard": (_keyboard, (255, 228, 196)),
    "USB-C Hub": (_hub, (220, 240, 230)),
    "Portable SSD 1 TB": (_ssd, (255, 222, 222)),
    "Pour-Over Coffee Set": (_coffee, (246, 232, 214)),
    "Cast Iron Skillet": (_skillet, (255, 236, 200)),
    "Insulated Bottle": (_bottle, (210, 240, 244)),
    "Cooking Class for Two": (_chef, (255, 232, 220)),
    "Cinema Tickets (2)": (_tickets, (232, 226, 250)),
    "AWSomeShop Hoodie": (_hoodie, (255, 240, 214)),
    "Sticker Pack": (_stickers, (238, 242, 255)),
    "Yoga Mat": (_yoga, (240, 230, 255)),
    "Massage Voucher": (_voucher, (222, 242, 230)),
}


def _backdrop(color: Color) -> Image.Image:
    """A studio backdrop: the colour fading to near white towards the floor."""
    image = Image.new("RGB", (S, S), color)
    d = ImageDraw.Draw(image)
    for y in range(0, S, 4):
        t = y / S
        d.rectangle([0, y, S, y + 4], fill=tuple(int(c + (252 - c) * t * 0.8) for c in color))
    return image


def product_picture(name: str) -> bytes:
    """A square JPEG of the named product (a backdrop and its name when there is no drawing)."""
    drawing, color = DRAWINGS.get(name, (None, None))
    if color is None:
        seed = zlib.crc32(name.encode())
        color = (200 + (seed & 0x37), 200 + ((seed >> 8) & 0x37), 200 + ((seed >> 16) & 0x37))
    image = _backdrop(color)
    layer = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    if drawing is not None:
        drawing(d)
    else:
        font = ImageFont.load_default(size=int(0.07 * S))
        d.text(_xy(0.5, 0.5), name, font=font, fill=(40, 44, 52), anchor="mm")
    image.paste(layer, (0, 0), layer)
    out = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()
