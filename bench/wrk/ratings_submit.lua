-- wrk script for bench/ratings.py: every request rates a different invitation, once.
-- Tokens come from the file named by env RATINGS_TOKENS (one per line), from line RATINGS_OFFSET on;
-- wrk thread i of n takes tokens i, i + n, i + 2n, ... so no two requests share a token.
-- 1 request in 20 is a 差评 with a reason (it opens a rectification), the others 非常满意/满意.
local tokens = {}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("RATINGS_THREADS"))
  local offset = tonumber(os.getenv("RATINGS_OFFSET") or "0")
  local i = 0
  for line in io.lines(os.getenv("RATINGS_TOKENS")) do
    if i >= offset and (i - offset) % nthreads == id then
      tokens[#tokens + 1] = line
    end
    i = i + 1
  end
  statuses = {}
  issued = 0
end

local good5 = '{"level": 5, "channel": "qr"}'
local good4 = '{"level": 4, "channel": "qr"}'
local bad = '{"level": 2, "channel": "qr", "reasons": ["b_wait"], "text": "排队太久"}'

function request()
  counter = counter + 1
  issued = counter
  local token = tokens[((counter - 1) % #tokens) + 1]
  local body
  if counter % 20 == 0 then body = bad elseif counter % 3 == 0 then body = good4 else body = good5 end
  return wrk.format("POST", "/api/v1/ratings/invitations/" .. token .. "/rating",
    {["Content-Type"] = "application/json", ["X-Device-Id"] = "wrk-" .. id .. "-" .. counter}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  local used = 0
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
    used = math.max(used, thread:get("issued"))
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', k, v) end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "max_per_thread": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, used, table.concat(parts, ", "),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
