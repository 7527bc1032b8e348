-- wrk script: the same GET (the URL's path and query) on every request, counted and drained
-- as in wrk_common.lua (bench/inbox.py: GET /v1/inbox?limit=50).
--
--   wrk -t1 -c1 -d20s -s bench/inbox_get.lua -H 'Authorization: Bearer KEY' \
--       'http://127.0.0.1:8000/v1/inbox?limit=50' -- seconds=10 threads=1

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "wrk_common.lua")

local get

common.install({
  name = "inbox_get.lua",
  init = function(options)
    get = wrk.format("GET")
  end,
  next_request = function()
    return get
  end,
})
