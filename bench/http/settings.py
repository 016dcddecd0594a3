"""HTTP benchmark settings: production's, with the benchmark's own URL configuration on top.

The hand-written reference views live only in `bench.http.urls`; the product's URL map
(`awsomeshop.urls`) is included unchanged underneath them.
"""

from awsomeshop.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.http.urls"
