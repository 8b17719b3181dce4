-- The sign-up POST: every request its own CSRF token and a unique e-mail address.
--
-- Django's CSRF check is double submit: the token in the form must match the secret in the
-- csrftoken cookie, and the server keeps no list of issued secrets. So each request makes a
-- fresh random 32-character secret and sends it in both places, which is the check a browser
-- passes after loading the form; only the POSTs are timed. Arguments: path, form body
-- (url-encoded, without email and csrfmiddlewaretoken).
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
  math.randomseed(os.time() * 100 + thread_number)
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
  local email = string.format("deelnemer-%d-%d%%40bench.example.nl", thread_number, counter)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. secret,
  }, body .. "&email=" .. email .. "&csrfmiddlewaretoken=" .. secret)
end
