-- wrk script: POST a plan with a new letter_id on every request (bench/plans.py).
--
--   wrk -t2 -c32 -d30s -s bench/post_plan.lua -H 'Content-Type: application/json' \
--       -H 'Authorization: Bearer KEY' http://127.0.0.1:8000/v1/plans \
--       -- seconds=20 threads=2 body=tests/data/plan-almen.json [prefix=Ab3dE]
--
-- body: a JSON file with a "letter_id" (the first one in the file counts: the plan's own, at
--   the top of plan-almen.json); its value is replaced on every request by
--   prefix (the run's, 5 characters of [0-9A-Za-z]; random if not given)
--   + the thread's index (1 character)
--   + a counter of 8 digits (13 - #prefix in general),
-- i.e. 14 printable ASCII characters, the most MedCom's Letter/Identifier and the API allow
-- (app/domain/plan.py). Unique per request within a run, and a new prefix per run keeps
-- reruns on the same database from answering 200 (duplicate) instead of 201.
-- seconds, threads: see wrk_common.lua (threads must be wrk's -t).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "wrk_common.lua")

local LETTER_ID_LENGTH = 14
local head, tail, prefix, digits
local counter = 0
local limit

common.install({
  name = "post_plan.lua",
  init = function(options)
    local body = common.read_file(assert(options.body, "bench: body=FILE is required"))
    local _, key_end = body:find('"letter_id"%s*:%s*"')
    assert(key_end, "bench: the body has no \"letter_id\": \"...\"")
    local value_end = body:find('"', key_end + 1, true)
    prefix = run_prefix .. common.thread_char(thread_index)
    digits = LETTER_ID_LENGTH - #prefix
    assert(digits >= 6, "bench: prefix too long for a 14-character letter_id")
    limit = 10 ^ digits
    -- The whole request once, around a marker as long as a letter_id (so Content-Length is
    -- right), then split: a request is head .. letter_id .. tail.
    local marker = string.rep("\1", LETTER_ID_LENGTH)
    local template = wrk.format("POST", nil, nil, body:sub(1, key_end) .. marker
      .. body:sub(value_end))
    local at = template:find(marker, 1, true)
    head, tail = template:sub(1, at - 1), template:sub(at + LETTER_ID_LENGTH)
  end,
  next_request = function()
    counter = counter + 1
    if counter >= limit then
      error("bench: letter_id counter exhausted")
    end
    return head .. prefix .. string.format("%0" .. digits .. "d", counter) .. tail
  end,
})
