#!/usr/bin/env bash
# The first README command: set up, create the SQLite database, load demo data, print a
# token and curl examples, and serve the product on http://127.0.0.1:8000 (HOST and PORT
# change the address; the printed commands always use the address actually bound).
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
# Listening on every interface is served on, and printed as, this machine's loopback address.
URL_HOST="${HOST}"
if [ "${HOST}" = "0.0.0.0" ]; then URL_HOST=127.0.0.1; fi
BASE="http://${URL_HOST}:${PORT}"
# Notification e-mails link to the storefront as this command serves it.
export SITE_URL="${SITE_URL:-${BASE}}"
py=.venv/bin/python

# A port another program holds would let everything below run (the setup too, minutes on a
# new machine) and then fail at gunicorn's bind: say so first, with the way out.
if (exec 3<>"/dev/tcp/${URL_HOST}/${PORT}") 2>/dev/null; then
  echo "Port ${PORT} on ${URL_HOST} is already in use (another server is running there)." >&2
  echo "Stop it, or choose another port: PORT=$((PORT + 1)) make run" >&2
  exit 1
fi

bash scripts/setup.sh base
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-awsomeshop.settings.local}"

$py manage.py migrate --noinput -v0
$py manage.py seed_demo
token=$($py manage.py issue_token --email alice@example.com --name "Alice Martin" --employee-id E1001)
# The storefront, offline: a one-time sign-in link for the demo employee (docs/storefront.md).
signin_link=$($py manage.py storefront_login_url --email alice@example.com --base-url "${BASE}")
# The demo data's own e-mails (a welcome grant for every demo employee) go to a file, sent as the
# worker would send them: printed here, they pushed the address and the sign-in link off screen.
# Appended: a later run, whose demo data is already there, sends none and keeps the file.
mkdir -p var
$py manage.py send_notifications --batch-size 1000 >> var/demo-emails.txt

cat <<MSG

AWSomeShop is starting on ${BASE} (listening on ${HOST}:${PORT})
  Storefront: ${BASE}/
              sign in as the demo employee alice@example.com (one-time link, valid 15 minutes;
              another: .venv/bin/python manage.py storefront_login_url --email alice@example.com):
              ${signin_link}
  API docs:  ${BASE}/api/docs/
  Admin:     ${BASE}/admin/
             (first create an HR user: .venv/bin/python manage.py create_hr_user --email hr@example.com --name "HR Person";
              it prompts for a password, or takes it from HR_USER_PASSWORD)

The API, as the demo employee alice@example.com: paste this line into your shell first (the
token is valid for one hour), then try the commands below it.

  export TOKEN=${token}

  curl -H "Authorization: Bearer \$TOKEN" ${BASE}/api/v1/me/
  curl -H "Authorization: Bearer \$TOKEN" "${BASE}/api/v1/products/?affordable=true"
  curl -H "Authorization: Bearer \$TOKEN" ${BASE}/api/v1/points/transactions/
  curl -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/json" \\
       -H "Idempotency-Key: order-\$(date +%s%N)" \\
       -d '{"product_id": "<an id from the product list>", "quantity": 1}' \\
       ${BASE}/api/v1/orders/
  (every order needs its own Idempotency-Key; resending the same one replays the first answer)

MSG
# The e-mail sender runs beside the server, as the worker service does in AWS, so a grant's or
# an order's notification is sent (EMAIL_BACKEND: console by default, printed in this terminal)
# instead of staying "Pending"; it stops with the server.
echo "E-mail sender: started beside the server (manage.py send_notifications --loop); e-mails from now"
echo "on are printed here. The demo data's own e-mails are in var/demo-emails.txt."
$py manage.py send_notifications --loop --interval 2 &
sender=$!
# Each request is logged as JSON: gunicorn's access line (gunicorn.conf.py) and the app's own,
# which carries the request id. The server runs in the background and this script waits for it,
# so that Ctrl-C, or a TERM sent to this script alone, stops the server and the sender together.
.venv/bin/gunicorn awsomeshop.wsgi:application --bind "${HOST}:${PORT}" --workers 2 \
  --log-level info &
server=$!
trap 'kill "${server}" "${sender}" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "${server}"
