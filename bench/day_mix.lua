-- wrk script for bench/day_bench.py: the community-day mix. Each wrk thread loads the request plan (DAY_PLAN,
-- one request a line: METHOD \t GROUP \t PATH \t COOKIE \t BODY, already drawn from the day's distribution by
-- day_bench.plan), walks it from its own random offset, and writes one line per response to DAY_OUT<thread>.txt:
-- "GROUP STATUS LATENCY_US". Latency is matched by the X-Request-Id the app echoes (wrk's own per-request timing
-- is global, not per route group). "@POST@" in a path or body is replaced by a random post id in
-- [DAY_POST_LO, DAY_POST_HI] (flags: a member never flags the same post twice).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } day_timespec;
int clock_gettime(int clk, day_timespec *tp);
]]
local ts = ffi.new("day_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local reqs, started, seq, idx, out, post_lo, post_hi
local origin = os.getenv("DAY_ORIGIN") or ""

function parse_line(line)
  local m, g, p, c, b = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  if m == nil then return nil end
  return {method = m, group = g, path = p, cookie = c, body = b}
end

function init(args)
  reqs, started, seq = {}, {}, 0
  for line in io.lines(os.getenv("DAY_PLAN")) do
    local r = parse_line(line)
    if r ~= nil then reqs[#reqs + 1] = r end
  end
  post_lo = tonumber(os.getenv("DAY_POST_LO") or "1")
  post_hi = tonumber(os.getenv("DAY_POST_HI") or "1")
  math.randomseed((tid or 1) * 7919 + now_us() % 100000)
  idx = math.random(#reqs)
  out = io.open(os.getenv("DAY_OUT") .. (tid or 1) .. ".txt", "w")
end

function request()
  idx = idx % #reqs + 1
  local r = reqs[idx]
  seq = seq + 1
  local id = "d" .. tid .. "-" .. seq
  local path, body = r.path, r.body
  if path:find("@POST@", 1, true) then
    local post = tostring(math.random(post_lo, post_hi))
    path = path:gsub("@POST@", post)
  end
  local headers = {["Cookie"] = r.cookie, ["X-Request-Id"] = id}
  if r.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Origin"] = origin
  else
    body = nil
  end
  started[id] = {r.group, now_us()}
  return wrk.format(r.method, path, headers, body)
end

function response(status, headers, body)
  local at = now_us()
  local id = headers["x-request-id"] or headers["X-Request-Id"]
  local s = id and started[id]
  if s ~= nil then
    started[id] = nil
    out:write(s[1], " ", status, " ", at - s[2], "\n")
  else
    out:write("unmatched ", status, " 0\n")
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"mean_us":%.1f,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write,
    e.timeout))
end
