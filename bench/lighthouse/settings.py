"""Lighthouse benchmark settings: production's (hashed, compressed static files with long cache
lifetimes; security headers; DEBUG off), with the product images served from local media.

Production serves images from the private S3 bucket through signed URLs; here Django serves the
same files from MEDIA_ROOT, so the pages load exactly the images (and sizes) they would.
"""

from awsomeshop.settings.production import *  # noqa: F403

SERVE_MEDIA = True
