-- Shared by every scenario: print wrk's summary as one JSON line that bench/load.py reads.
-- wrk counts a response with status 400 or higher under errors.status; a scenario that knows
-- its one right answer defines unexpected_responses() to count the others.
done = function(summary, latency, requests)
  local unexpected = 0
  if unexpected_responses then
    unexpected = unexpected_responses()
  end
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, "unexpected": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max, unexpected))
end
