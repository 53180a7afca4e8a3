-- wrk script for bench/search_scale.py: GET requests whose paths come from the file named by env
-- SEARCH_PATHS (one per line), cycled in order; wrk thread i of n starts at line i * (lines / n).
-- done() prints "RESULT {json}" (requests, statuses, latency percentiles) for bench/common.wrk_load.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("SEARCH_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  local nthreads = tonumber(os.getenv("SEARCH_THREADS") or "1")
  counter = math.floor(id * #paths / nthreads)
  statuses = {}
  issued = 0
end

function request()
  counter = counter + 1
  issued = issued + 1
  return wrk.format("GET", paths[((counter - 1) % #paths) + 1])
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
