-- wrk script for bench/cases.py: every request is one online application (form + 3 PDF files) with its own
-- Idempotency-Key. The multipart body is read from the file named by env CASES_BODY (Content-Type in
-- CASES_CTYPE); bearer tokens from CASES_TOKENS (one per line), taken in turn; keys are
-- "wrk-<CASES_RUN>-<thread>-<n>", so no two requests share one.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local fh = io.open(os.getenv("CASES_BODY"), "rb")
  body = fh:read("*a")
  fh:close()
  ctype = os.getenv("CASES_CTYPE")
  run = os.getenv("CASES_RUN")
  tokens = {}
  for line in io.lines(os.getenv("CASES_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  statuses = {}
end

function request()
  counter = counter + 1
  local token = tokens[((counter - 1) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/cases/apply", {
    ["Content-Type"] = ctype,
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "wrk-" .. run .. "-" .. id .. "-" .. counter,
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', k, v) end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
