/**
 * The idempotent append (DESIGN.md §2.3), run atomically by Redis.
 *
 * KEYS[1] log stream, KEYS[2] marks hash, KEYS[3] sequence counter (one slot: all carry the run's hash tag).
 * ARGV[1] marker id; ARGV[2] the entry head, `{"runId":"…","seq":`; ARGV[3..] one entry tail per entry,
 * the rest of its JSON (`,"eventId":…}`). The stored entry is head .. seq .. tail: a full LogEntry JSON
 * with `seq` in its schema position, stored under stream id `${seq}-0` in field `e`.
 *
 * The marker records "first,last". An input that produced no entries records "cur+1,cur" (first > last:
 * an empty range that still says where in the log it was consumed).
 *
 * Returns {1, first, last} when it appended, or {0, first, last, e1, e2, …} when the marker already
 * existed: the entries recorded the first time, read in the same atomic step.
 */
export const APPEND_ONCE_LUA = `
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if rec then
  local comma = string.find(rec, ',', 1, true)
  local first = tonumber(string.sub(rec, 1, comma - 1))
  local last = tonumber(string.sub(rec, comma + 1))
  local out = {0, first, last}
  if last >= first then
    local rows = redis.call('XRANGE', KEYS[1], first .. '-0', last .. '-0')
    for i = 1, #rows do
      out[#out + 1] = rows[i][2][2]
    end
  end
  return out
end
local n = #ARGV - 2
local last = redis.call('INCRBY', KEYS[3], n)
local first = last - n + 1
local head = ARGV[2]
for i = 1, n do
  local seq = first + i - 1
  redis.call('XADD', KEYS[1], seq .. '-0', 'e', head .. seq .. ARGV[i + 2])
end
redis.call('HSET', KEYS[2], ARGV[1], first .. ',' .. last)
return {1, first, last}
`;
