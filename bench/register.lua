-- The sign-up POST: every request its own CSRF token and a unique e-mail address.
--
-- Django's CSRF check is double submit: the token in the form must match the secret in the
-- csrftoken cookie, and the server keeps no list of issued secrets. So each request makes a
-- fresh random 32-character secret and sends it in both places, which is the check a browser
-- passes after loading the form; only the POSTs are timed. Any answer but the 302 to a
-- confirmation page counts as unexpected. Arguments: path, form body
-- (url-encoded, without email and csrfmiddlewaretoken), and a salt: wrk runs started in the
-- same second against several servers must not make the same addresses.
dofile("bench/report.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  path = args[1]
  body = args[2]
  counter = 0
  unexpected = 0
  salt = args[3] or "0"
  math.randomseed(os.time() * 100 + thread_number)
  -- Each wrk run (the warm-up too) signs up its own people: a repeated address would be
  -- refused as "already registered", which is not the work being measured.
  run_id = math.random(1, 1000000000)
end

-- A stored sign-up answers 302 to its confirmation page; the form again (200) means refused.
function response(status, headers, body)
  if status ~= 302 then
    unexpected = unexpected + 1
  end
end

function unexpected_responses()
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  return total
end

local ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

local function csrf_secret()
  local characters = {}
  for i = 1, 32 do
    local n = math.random(1, #ALPHABET)
    characters[i] = ALPHABET:sub(n, n)
  end
  return table.concat(characters)
end

function request()
  counter = counter + 1
  local secret = csrf_secret()
  local email = string.format(
    "deelnemer-%s-%d-%d-%d%%40bench.example.nl", salt, run_id, thread_number, counter)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. secret,
  }, body .. "&email=" .. email .. "&csrfmiddlewaretoken=" .. secret)
end
