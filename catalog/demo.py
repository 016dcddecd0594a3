"""Demo data: a small, realistic catalog with real images drawn here, and a few employees."""

from __future__ import annotations

import io
import zlib

from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from catalog.images import product_image_set
from catalog.models import Category, Product
from points.models import PointsAccount
from points.services import points_grant
from shop.models import User
from shop.services import user_create

CATEGORIES = [
    ("Tech", "tech"),
    ("Home & Kitchen", "home-kitchen"),
    ("Experiences", "experiences"),
    ("Swag", "swag"),
    ("Wellbeing", "wellbeing"),
]

# (name, category slug, points cost, stock, description)
PRODUCTS = [
    ("Wireless Earbuds", "tech", 1200, 25, "Noise-cancelling earbuds with a pocket charging case."),
    ("Mechanical Keyboard", "tech", 1500, 10, "Tenkeyless keyboard with quiet tactile switches."),
    ("USB-C Hub", "tech", 450, 40, "Seven ports: HDMI, Ethernet, SD and USB for one laptop port."),
    ("Portable SSD 1 TB", "tech", 1800, 8, "Pocket-sized fast storage for backups and big projects."),
    ("Pour-Over Coffee Set", "home-kitchen", 600, 15, "Ceramic dripper, glass carafe and 100 filters."),
    ("Cast Iron Skillet", "home-kitchen", 700, 12, "A 26 cm pre-seasoned skillet that lasts for decades."),
    ("Insulated Bottle", "home-kitchen", 250, 60, "Keeps drinks cold for 24 hours or hot for 12."),
    ("Cooking Class for Two", "experiences", 2500, 5, "A three-hour evening class with a local chef."),
    ("Cinema Tickets (2)", "experiences", 400, 50, "Two tickets for any film at a partner cinema."),
    ("AWSomeShop Hoodie", "swag", 500, 30, "Soft organic cotton hoodie with the team logo."),
    ("Sticker Pack", "swag", 50, 200, "Twelve weatherproof stickers for laptops and bottles."),
    ("Yoga Mat", "wellbeing", 550, 20, "Non-slip 6 mm mat with a carrying strap."),
    ("Massage Voucher", "wellbeing", 1600, 0, "A 60-minute massage at a partner spa (restocking soon)."),
]

EMPLOYEES = [
    ("alice@example.com", "Alice Martin", "E1001", 5000),
    ("bob@example.com", "Bob Chen", "E1002", 1200),
    ("carol@example.com", "Carol Singh", "E1003", 300),
]


def product_image(name: str, *, size: tuple[int, int] = (800, 600)) -> bytes:
    """Draw a product card: a colour gradient picked from the name, with the name on it."""
    seed = zlib.crc32(name.encode())
    top = ((seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF)
    bottom = tuple(255 - c // 2 for c in top)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / (size[1] - 1)
        draw.line(
            [(0, y), (size[0], y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    font = ImageFont.load_default(size=48)
    box = draw.textbbox((0, 0), name, font=font)
    position = ((size[0] - (box[2] - box[0])) / 2, (size[1] - (box[3] - box[1])) / 2)
    draw.text((position[0] + 2, position[1] + 2), name, font=font, fill=(0, 0, 0))
    draw.text(position, name, font=font, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create what is missing; change nothing that exists. Running it twice changes nothing."""
    created = {"categories": 0, "products": 0, "employees": 0}
    categories: dict[str, Category] = {}
    for name, slug in CATEGORIES:
        category, was_created = Category.objects.get_or_create(slug=slug, defaults={"name": name})
        categories[slug] = category
        created["categories"] += was_created
    created["thumbnails"] = 0
    for name, slug, cost, stock, description in PRODUCTS:
        existing = Product.objects.filter(name=name).first()
        if existing is not None:
            # Demo data seeded before thumbnails existed shows no picture in the admin list.
            if not existing.thumbnail:
                product_image_set(product=existing, data=product_image(name))
                created["thumbnails"] += 1
            continue
        product = Product.objects.create(
            name=name,
            category=categories[slug],
            points_cost=cost,
            stock=stock,
            description=description,
        )
        # The admin upload's path: the same re-encoding, and the thumbnail the admin lists show.
        product_image_set(product=product, data=product_image(name))
        created["products"] += 1
    for email, name, employee_id, points in EMPLOYEES:
        if User.objects.filter(email=email).exists():
            continue
        user = user_create(email=email, name=name, employee_id=employee_id)
        points_grant(user=user, amount=points, reason="Welcome points")
        created["employees"] += 1
    assert PointsAccount.objects.count() >= len(EMPLOYEES)
    return created
