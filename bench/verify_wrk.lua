-- wrk script for bench/verify.py: POST verification bodies (or GET the ceiling endpoint) with a
-- Bearer key, and print one JSON line of results at the end.
--   BENCH_TOKEN   the API key secret
--   BENCH_BODIES  a file with one JSON verification body per line (POST mode)
--   BENCH_MODE    "post" (verification) or "get" (ceiling)

local token = os.getenv("BENCH_TOKEN")
local mode = os.getenv("BENCH_MODE") or "post"
local bodies = {}

if mode == "post" then
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    bodies[#bodies + 1] = line
  end
end

-- wrk.format() replaces wrk.headers when given a table, so every header is set here.
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"
if mode == "post" then
  wrk.headers["Content-Type"] = "application/json"
end

local statuses = {}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  if mode == "post" then
    local body = bodies[math.random(1, #bodies)]
    return wrk.format("POST", nil, nil, body)
  end
  return wrk.format("GET")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
