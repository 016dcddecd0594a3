"""Demo data: a small, realistic catalog with pictures drawn here (catalog/demo_images.py), and a
few employees."""

from __future__ import annotations

from django.db import transaction

from catalog.demo_images import product_picture
from catalog.images import product_image_set
from catalog.models import Category, Product
from points.models import PointsAccount
from points.services.grants import points_grant
from shop.identity.services import user_create
from shop.models import User

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


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create what is missing; change nothing that exists. Running it twice changes nothing."""
    created = {"categories": 0, "products": 0, "employees": 0}
    categories: dict[str, Category] = {}
    for name, slug in CATEGORIES:
        category, was_created = Category.objects.get_or_create(slug=slug, defaults={"name": name})
        categories[slug] = category
        created["categories"] += was_created
    # Pictures added to products seeded before they had one (new products get theirs too).
    created["pictures added to older products"] = 0
    for name, slug, cost, stock, description in PRODUCTS:
        existing = Product.objects.filter(name=name).first()
        if existing is not None:
            # Demo data seeded before thumbnails existed shows no picture in the admin list.
            if not existing.thumbnail:
                product_image_set(product=existing, data=product_picture(name))
                created["pictures added to older products"] += 1
            continue
        product = Product.objects.create(
            name=name,
            category=categories[slug],
            points_cost=cost,
            stock=stock,
            description=description,
        )
        # The admin upload's path: the same re-encoding, and the thumbnail the admin lists show.
        product_image_set(product=product, data=product_picture(name))
        created["products"] += 1
    for email, name, employee_id, points in EMPLOYEES:
        if User.objects.filter(email=email).exists():
            continue
        user = user_create(email=email, name=name, employee_id=employee_id)
        points_grant(user=user, amount=points, reason="Welcome points")
        created["employees"] += 1
    assert PointsAccount.objects.count() >= len(EMPLOYEES)
    return created
