-- Shared by the wrk scripts of bench/ (post_plan.lua, inbox_get.lua, inbox_ack.lua); loaded
-- with dofile() from the script's own directory. Written for wrk 4.1 (Debian's `wrk`, LuaJIT).
--
-- wrk runs a closed loop on each connection: the next request as soon as the answer is in.
-- This module adds what the benchmarks need:
--
--   * the arguments after `--` as key=value, e.g. `seconds=20 threads=2 prefix=Ab3dE`:
--     seconds (required) of load before the drain; threads, wrk's -t (for scripts that split
--     work between threads); prefix, the run's (a random one if not given); expect, the
--     status expected (the first other answer is kept for the report); start_at, when to
--     send the first request, in seconds on CLOCK_MONOTONIC (Python's time.monotonic());
--   * a delayed start: the connections are opened at once, but nothing is sent before
--     start_at, so that bench/loadgen.py can see how the server's workers shared them out;
--   * a drain: `seconds` after start_at (or init()), no connection sends a new request;
--     when a thread has its answer to every request it sent, it stops (wrk.thread:stop()).
--     bench/loadgen.py ends wrk (SIGINT) as soon as all its threads have stopped, so every
--     request sent is answered and counted, and none is left for the server to finish after
--     wrk has gone (which would make the stored plans differ from the 201s counted);
--   * answers counted by HTTP status in response(): exact, one call per answer;
--   * done() prints one line of JSON (see done() below).
--
-- A script calls install{init = f(options), next_request = f() -> string or nil}: init gets
-- the parsed arguments (with the globals thread_index, thread_count and run_prefix set);
-- next_request returns the next HTTP request (wrk.format(...)), or nil if there is nothing
-- left to send (then the thread drains and stops early, and done() reports ran_out).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
int clock_gettime(int clock_id, bench_timespec_t *tp);
int poll(void *fds, unsigned long nfds, int timeout);
]])
local CLOCK_MONOTONIC = 1 -- Linux
local timespec = ffi.new("bench_timespec_t")
local PREFIX_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

local M = {}

-- Seconds on CLOCK_MONOTONIC (the same clock in every thread).
function M.now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

-- `length` characters of [0-9A-Za-z] from /dev/urandom.
function M.random_prefix(length)
  local urandom = assert(io.open("/dev/urandom", "rb"))
  local bytes = urandom:read(length)
  urandom:close()
  local out = {}
  for i = 1, length do
    local at = bytes:byte(i) % #PREFIX_ALPHABET + 1
    out[i] = PREFIX_ALPHABET:sub(at, at)
  end
  return table.concat(out)
end

-- One character for a thread's index: 0-9, A-Z, a-z.
function M.thread_char(index)
  assert(index < #PREFIX_ALPHABET, "bench: too many wrk threads")
  return PREFIX_ALPHABET:sub(index + 1, index + 1)
end

function M.read_file(path)
  local file = assert(io.open(path, "rb"))
  local content = file:read("*a")
  file:close()
  return content
end

-- args[0] is the URL; args[1..] are what follows `--`.
local function parse_args(args)
  local options = {}
  for i = 1, #args do
    local key, value = string.match(args[i], "^([%w_]+)=(.*)$")
    if not key then
      error("bench: the arguments after -- are key=value, not " .. args[i])
    end
    options[key] = value
  end
  return options
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function json_number(x)
  if x == nil or x ~= x then
    return "null"
  end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then
    return string.format("%d", x)
  end
  return string.format("%.3f", x)
end

function M.install(script)
  -- The main state (setup and done): one entry per thread.
  local threads = {}
  local prefix = nil

  function setup(thread)
    prefix = prefix or M.random_prefix(5)
    thread:set("thread_index", #threads)
    thread:set("fallback_prefix", prefix) -- if the arguments have no prefix=
    threads[#threads + 1] = thread
  end

  -- A thread's state. The globals bench_* are read by done() through thread:get().
  local deadline, sent, received, counts, stopping, expect, start_at
  local check_pending = false

  function init(args)
    local options = parse_args(args)
    local seconds = tonumber(options.seconds)
    if not seconds then
      error("bench: seconds=N is required after --")
    end
    thread_count = tonumber(options.threads or "1")
    run_prefix = options.prefix or fallback_prefix
    expect = tonumber(options.expect or "0") -- 0: any status is expected
    -- wrk calls request() of thread 0 once before it starts, to check the request
    -- (script_verify_request); that request is never sent.
    check_pending = thread_index == 0
    sent, received, counts, stopping = 0, 0, {}, false
    bench_counts, bench_sent, bench_received, bench_ran_out = counts, 0, 0, false
    bench_first_error = nil
    script.init(options)
    start_at = tonumber(options.start_at or "")
    bench_started = start_at or M.now()
    bench_last_answer = nil
    deadline = bench_started + seconds
  end

  local function stop_if_drained()
    if received >= sent then
      wrk.thread:stop()
    end
  end

  function request()
    if check_pending then
      check_pending = false
      return wrk.format("GET", "/")
    end
    if start_at then
      -- The thread's first request: the connections have been opened (connect() is called
      -- for all of them before the event loop starts); wait here, holding the loop, until
      -- start_at, while bench/loadgen.py looks at how they are split over the server's
      -- workers (it may end this wrk and start another, before anything has been sent).
      local now = M.now()
      while now < start_at do
        ffi.C.poll(nil, 0, math.ceil((start_at - now) * 1000))
        now = M.now()
      end
      start_at = nil
    end
    if stopping then
      return "" -- nothing is written; the connection waits, idle, until the thread stops
    end
    if M.now() >= deadline then
      stopping = true
      stop_if_drained()
      return ""
    end
    local req = script.next_request()
    if req == nil then
      stopping, bench_ran_out = true, true
      stop_if_drained()
      return ""
    end
    sent = sent + 1
    bench_sent = sent
    return req
  end

  function response(status, headers, body)
    received = received + 1
    bench_received = received
    counts[status] = (counts[status] or 0) + 1
    if status ~= expect and expect ~= 0 and not bench_first_error then
      bench_first_error = status .. ": " .. body:sub(1, 300)
    end
    local now = M.now()
    bench_last_answer = now
    if now >= deadline then
      stopping = true
    end
    if stopping then
      stop_if_drained()
    end
  end

  -- One line of JSON on stdout:
  --   requests     answers, all statuses (wrk's own count; equals the sum of statuses)
  --   statuses     {"201": n, ...}, counted in response()
  --   sent         requests sent; unanswered = sent - answered (lost to a socket error, or
  --                still in flight when wrk's -d ran out)
  --   latency_ms   p50, p90, p99, max, mean from wrk's histogram (latency:percentile())
  --   wall_s       from start_at (or the first thread's init()) to the last answer
  --   duration_s   wrk's own run time (until it was stopped)
  --   socket_errors  connect, read, write, timeout (an answer slower than --timeout)
  --   ran_out      a thread had nothing left to send (next_request() returned nil)
  --   first_error  with expect=STATUS: the first other answer, status and start of its body
  function done(summary, latency, requests)
    local statuses, sent_total, answered, ran_out, first_error = {}, 0, 0, false, nil
    local first, last = nil, nil
    for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("bench_counts") or {}) do
        statuses[status] = (statuses[status] or 0) + n
      end
      sent_total = sent_total + (thread:get("bench_sent") or 0)
      answered = answered + (thread:get("bench_received") or 0)
      ran_out = ran_out or thread:get("bench_ran_out") == true
      first_error = first_error or thread:get("bench_first_error")
      local started, answer = thread:get("bench_started"), thread:get("bench_last_answer")
      if started and (first == nil or started < first) then
        first = started
      end
      if answer and (last == nil or answer > last) then
        last = answer
      end
    end
    local parts = {}
    for status, n in pairs(statuses) do
      parts[#parts + 1] = string.format('"%d":%d', status, n)
    end
    local function ms(us)
      return answered > 0 and us / 1000 or nil
    end
    local e = summary.errors
    local fields = {
      '"requests":' .. json_number(summary.requests),
      '"answered":' .. json_number(answered),
      '"statuses":{' .. table.concat(parts, ",") .. "}",
      '"sent":' .. json_number(sent_total),
      '"unanswered":' .. json_number(sent_total - answered),
      string.format(
        '"latency_ms":{"p50":%s,"p90":%s,"p99":%s,"max":%s,"mean":%s}',
        json_number(ms(latency:percentile(50))),
        json_number(ms(latency:percentile(90))),
        json_number(ms(latency:percentile(99))),
        json_number(ms(latency.max)),
        json_number(ms(latency.mean))
      ),
      '"wall_s":' .. json_number(first and last and last - first or nil),
      '"duration_s":' .. json_number(summary.duration / 1e6),
      string.format(
        '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
        e.connect,
        e.read,
        e.write,
        e.timeout
      ),
      '"threads":' .. json_number(#threads),
      '"ran_out":' .. tostring(ran_out),
      '"first_error":' .. (first_error and json_string(first_error) or "null"),
      '"script":' .. json_string(script.name or "?"),
    }
    io.write("{" .. table.concat(fields, ",") .. "}\n")
    io.flush()
  end
end

return M
