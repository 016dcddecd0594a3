#!/usr/bin/env bash
# The first README command: set up, create the SQLite database, load demo data, print a
# token and a curl example, and serve the product on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh base
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-awsomeshop.settings.local}"
PORT="${PORT:-8000}"
py=.venv/bin/python

$py manage.py migrate --noinput -v0
$py manage.py seed_demo
token=$($py manage.py issue_token --email alice@example.com --name "Alice Martin" --employee-id E1001)

cat <<MSG

AWSomeShop is starting on http://127.0.0.1:${PORT}
  API docs:  http://127.0.0.1:${PORT}/api/docs/
  Admin:     http://127.0.0.1:${PORT}/admin/
             (first create an HR user: .venv/bin/python manage.py create_hr_user --email hr@example.com --name "HR")

A token for the demo employee alice@example.com (valid for one hour):
${token}

Try it:
  curl -H "Authorization: Bearer ${token}" http://127.0.0.1:${PORT}/api/v1/me/
  curl -H "Authorization: Bearer ${token}" "http://127.0.0.1:${PORT}/api/v1/products/?affordable=true"
  curl -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" \\
       -H "Idempotency-Key: order-\$(date +%s%N)" \\
       -d '{"product_id": "<an id from the product list>", "quantity": 1}' \\
       http://127.0.0.1:${PORT}/api/v1/orders/
  (every order needs its own Idempotency-Key; resending the same one replays the first answer)

MSG
# Requests are logged by the app itself (JSON, with a request id), so no access log here.
exec .venv/bin/gunicorn awsomeshop.wsgi:application --bind "0.0.0.0:${PORT}" --workers 2 \
  --log-level info
