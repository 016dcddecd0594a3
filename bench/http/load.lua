-- wrk script for bench/http/run.py. The scenario comes from the environment:
--   BENCH_MODE   plain (no auth), get (a bearer token), order (token + Idempotency-Key + body),
--                redeem (the reference redemption: X-Bench-User + body), session (a storefront
--                page: the employee's session cookie)
--   BENCH_PATH   the request path
--   BENCH_TOKENS a file of "<token> <user id>" lines; requests rotate through the employees
--   BENCH_PRODUCTS a file of product ids; orders rotate through them
--   BENCH_SESSIONS a file of "sessionid=..." lines (Cookie values); requests rotate through them
--   BENCH_RUN    a prefix that makes this run's idempotency keys unique
--   BENCH_HOST   the host name production serves (APP_DOMAIN)
-- Every request, the reference views' too, carries that Host and "X-Forwarded-Proto: https", as
-- the TLS-terminating load balancer sends them; without them production answers 400 or a
-- redirect to HTTPS.
-- done() prints one line "BENCH_JSON {...}" with the counts and latency percentiles (us).
local mode = os.getenv("BENCH_MODE") or "plain"
local path = os.getenv("BENCH_PATH") or "/"
local run_id = os.getenv("BENCH_RUN") or tostring(os.time())
local host = os.getenv("BENCH_HOST") or "localhost"
local tokens, users, products, sessions = {}, {}, {}, {}
local i = 0
tid = 0
c2, c3, c409, c429, c4, c5 = 0, 0, 0, 0, 0, 0

local threads = {}
local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  local tokens_file = os.getenv("BENCH_TOKENS")
  if tokens_file then
    for line in io.lines(tokens_file) do
      local t, u = line:match("^(%S+)%s+(%S+)$")
      if t then tokens[#tokens + 1] = t; users[#users + 1] = u end
    end
  end
  local sessions_file = os.getenv("BENCH_SESSIONS")
  if sessions_file then
    for line in io.lines(sessions_file) do
      if #line > 0 then sessions[#sessions + 1] = line end
    end
  end
  local products_file = os.getenv("BENCH_PRODUCTS")
  if products_file then
    for line in io.lines(products_file) do
      if #line > 0 then products[#products + 1] = line end
    end
  end
end

local function proxied_headers()
  return {["Host"] = host, ["X-Forwarded-Proto"] = "https"}
end

function request()
  i = i + 1
  local headers = proxied_headers()
  if mode == "plain" then
    return wrk.format("GET", path, headers)
  end
  if mode == "session" then
    headers["Cookie"] = sessions[(i % #sessions) + 1]
    return wrk.format("GET", path, headers)
  end
  local k = (i % #tokens) + 1
  if mode == "get" then
    headers["Authorization"] = "Bearer " .. tokens[k]
    return wrk.format("GET", path, headers)
  end
  local product = products[(i % #products) + 1]
  local body = '{"product_id": "' .. product .. '", "quantity": 1}'
  headers["Content-Type"] = "application/json"
  if mode == "order" then
    headers["Authorization"] = "Bearer " .. tokens[k]
    headers["Idempotency-Key"] = run_id .. "-" .. tid .. "-" .. i
  else
    headers["X-Bench-User"] = users[k]
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status < 300 then c2 = c2 + 1
  elseif status < 400 then c3 = c3 + 1
  elseif status == 409 then c409 = c409 + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status < 500 then c4 = c4 + 1
  else c5 = c5 + 1 end
end

function done(summary, latency, requests)
  local t = {c2 = 0, c3 = 0, c409 = 0, c429 = 0, c4 = 0, c5 = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + (thread:get(name) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "socket_errors": %d, "timeouts": %d, "s2xx": %d, "s3xx": %d, "s409": %d, ' ..
    '"s429": %d, "s4xx": %d, "s5xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write, e.timeout,
    t.c2, t.c3, t.c409, t.c429, t.c4, t.c5))
end
