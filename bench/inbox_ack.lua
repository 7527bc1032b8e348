-- wrk script: acknowledge deliveries, a different one on every request (bench/inbox.py).
--
--   wrk -t2 -c4 -d20s -s bench/inbox_ack.lua -H 'Content-Type: application/json' \
--       -H 'Authorization: Bearer KEY' http://127.0.0.1:8000/v1/inbox \
--       -- seconds=10 threads=2 ids=/tmp/delivery-ids
--
-- ids: a file of delivery ids, one per line. Thread i of n (threads=n, wrk's -t) takes lines
-- i+1, i+1+n, i+1+2n, ...: disjoint slices, so no delivery is acknowledged twice. Each request
-- is POST <the URL's path>/<id>/ack with {"result":"positive"}. When a thread's slice is used
-- up it stops sending (done() reports ran_out).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "wrk_common.lua")

local BODY = '{"result":"positive"}'
local ids, next_index = {}, 0

common.install({
  name = "inbox_ack.lua",
  init = function(options)
    local content = common.read_file(assert(options.ids, "bench: ids=FILE is required"))
    local line = 0
    for id in content:gmatch("[^\r\n]+") do
      if line % thread_count == thread_index then
        ids[#ids + 1] = id
      end
      line = line + 1
    end
    wrk.path = wrk.path:gsub("/$", "")
  end,
  next_request = function()
    next_index = next_index + 1
    local id = ids[next_index]
    if id == nil then
      return nil
    end
    return wrk.format("POST", wrk.path .. "/" .. id .. "/ack", nil, BODY)
  end,
})
