-- wrk script of bench.sh: a realistic token mix. Each request carries the next token of
-- a cycle through the valid tokens (tokens.txt, one per line, WRK_TOKENS), except every
-- 20th request (5 %), which carries the next of the invalid ones (invalid.txt,
-- WRK_INVALID: valid tokens with one signature character changed), which must be
-- refused with 401. The count of non-2xx answers wrk reports proves they were.
-- The requests are formatted once in init(): request() only picks one, so that wrk's
-- own cost per request stays close to that of a fixed request.
local function requests(path)
  local t = {}
  for l in io.lines(path) do
    if #l > 0 then
      t[#t + 1] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. l })
    end
  end
  return t
end

local valid, invalid
local i, j, n = 0, 0, 0

function init(args)
  valid = requests(os.getenv("WRK_TOKENS"))
  invalid = requests(os.getenv("WRK_INVALID"))
end

function request()
  n = n + 1
  if n % 20 == 0 then
    j = j % #invalid + 1
    return invalid[j]
  end
  i = i % #valid + 1
  return valid[i]
end
