/**
 * The idempotent append (DESIGN.md §2.3) and the run-state gate (run-state.ts), run atomically by Redis.
 *
 * KEYS[1] log stream, KEYS[2] marks hash, KEYS[3] sequence counter, KEYS[4] run state, KEYS[5] heads
 * hash (one slot: all carry the run's hash tag).
 * ARGV[1] marker id; ARGV[2] the entry head, `{"runId":"…","seq":`; ARGV[3] the gate: `raw` (the owner's
 * append), or `in` followed by `S` (the orchestrator consuming run.start) and/or `F` (the outputs
 * record run.finished); ARGV[4..8] the command the input consumes (seq, eventId, type, from, to; seq ''
 * when none is named); ARGV[9], ARGV[10] the component and the seq of its last input as the appender
 * knows it ('' when not checked: InputGate.after); ARGV[11..] one entry tail per entry, the rest of its
 * JSON (`,"eventId":…}`).
 * The stored entry is head .. seq .. tail: a full LogEntry JSON with `seq` in its schema position,
 * stored under stream id `${seq}-0` in field `e`.
 *
 * The marker records "first,last". An input that produced no entries records "cur+1,cur" (first > last:
 * an empty range that still says where in the log it was consumed).
 *
 * Returns {1, first, last} when it appended; {0, first, last, e1, e2, …} when the marker already
 * existed (the entries recorded the first time, read in the same atomic step); {-1, refusal} when the
 * run's state refused the input, or {-1, 'stale'} when the component's last input is not the one the
 * appender knows (nothing written; a run with no head recorded for the component, as one begun by an
 * older version, is not checked). The gate costs one GET on the way; the proof of a
 * consumed command is read (one XRANGE of one entry) only while the run is draining.
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
local state = redis.call('GET', KEYS[4])
local mode = ARGV[3]
local nextState = false
if mode == 'raw' then
  if state == 'draining' then return {-1, 'finished'} end
  if state == 'closed' then return {-1, 'closed'} end
else
  local finishes = string.find(mode, 'F', 3, true)
  if not state then return {-1, 'unknown'} end
  if state == 'closed' then return {-1, 'closed'} end
  if state == 'ready' then
    if not string.find(mode, 'S', 3, true) then return {-1, 'not-started'} end
    nextState = finishes and 'draining' or 'open'
  elseif state == 'open' then
    if finishes then nextState = 'draining' end
  elseif state == 'draining' then
    if ARGV[4] == '' then return {-1, 'finished'} end
    local rows = redis.call('XRANGE', KEYS[1], ARGV[4] .. '-0', ARGV[4] .. '-0')
    if #rows == 0 then return {-1, 'finished'} end
    local e = cjson.decode(rows[1][2][2])
    if e.kind ~= 'command' or e.eventId ~= ARGV[5] or e.type ~= ARGV[6] or e.component ~= ARGV[7] or e.to ~= ARGV[8] then
      return {-1, 'finished'}
    end
  else
    return {-1, 'unknown'}
  end
end
if ARGV[9] ~= '' then
  local h = redis.call('HGET', KEYS[5], ARGV[9])
  if h and h ~= ARGV[10] then return {-1, 'stale'} end
end
local n = #ARGV - 10
local last = redis.call('INCRBY', KEYS[3], n)
local first = last - n + 1
local head = ARGV[2]
for i = 1, n do
  local seq = first + i - 1
  redis.call('XADD', KEYS[1], seq .. '-0', 'e', head .. seq .. ARGV[i + 10])
end
redis.call('HSET', KEYS[2], ARGV[1], first .. ',' .. last)
if ARGV[9] ~= '' then redis.call('HSET', KEYS[5], ARGV[9], first) end
if nextState then redis.call('SET', KEYS[4], nextState) end
return {1, first, last}
`;

/**
 * Moves a run forward to a state (never backwards: ready < open < draining < closed).
 * KEYS[1] the run state; ARGV[1] the state wanted. Returns the state the run is in.
 */
export const OPEN_RUN_LUA = `
local rank = { ready = 1, open = 2, draining = 3, closed = 4 }
local cur = redis.call('GET', KEYS[1])
if cur and (rank[cur] or 0) >= rank[ARGV[1]] then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;
