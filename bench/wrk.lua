-- wrk script for bench/run.py: sends the signed requests of the file named by BENCH_REQUESTS
-- (one per line: path, X-Twilio-Signature and form body, tab-separated), each thread every
-- BENCH_THREADS-th line so no request is sent twice; counts answers that lack BENCH_EXPECT
-- and prints one JSON line for bench/load.py:parse_wrk.
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local every = tonumber(os.getenv("BENCH_THREADS"))
   expect = os.getenv("BENCH_EXPECT")
   requests = {}
   local i = 0
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      if i % every == id then
         local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
         requests[#requests + 1] = wrk.format("POST", path, {
            ["Content-Type"] = "application/x-www-form-urlencoded",
            ["X-Twilio-Signature"] = signature}, body)
      end
      i = i + 1
   end
   position = 0
   wrapped = 0
   bad = 0
end

function request()
   position = position + 1
   if position > #requests then
      position = 1
      wrapped = wrapped + 1
   end
   return requests[position]
end

function response(status, headers, body)
   if status == 200 and not string.find(body, expect, 1, true) then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local wrapped_all, bad_all = 0, 0
   for _, thread in ipairs(threads) do
      wrapped_all = wrapped_all + thread:get("wrapped")
      bad_all = bad_all + thread:get("bad")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
      '"bad": %d, "wrapped": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, e.connect, e.read, e.write, e.status, e.timeout, bad_all, wrapped_all))
end
