-- wrk workload for bench/images.sh: devices downloading one image the way cellota's agents do.
-- Each request is, at random (seeded per wrk thread, so every server gets the same sequence):
--   20%  the whole image (a first download),
--   40%  "bytes=A-": a device resuming after a reset or a dropped socket, from A to the end,
--   40%  "bytes=A-B": a device fetching one block of 1 to 64 KiB (modems with small buffers).
-- Environment: IMAGE_PATH (the URL path), IMAGE_SIZE (bytes). At the end one line for the
-- script: "result requests=N bytes=N duration_us=N errors=N" (errors: connect, read, write,
-- timeouts, and any status other than 2xx/3xx).

local path = os.getenv("IMAGE_PATH")
local size = tonumber(os.getenv("IMAGE_SIZE"))
local threads = 0

function setup(thread)
    thread:set("thread_number", threads)
    threads = threads + 1
end

function init(arguments)
    math.randomseed(7919 + thread_number)
end

function request()
    local kind = math.random()
    local headers = {}
    if kind < 0.4 then
        headers["Range"] = "bytes=" .. math.random(0, size - 1) .. "-"
    elseif kind < 0.8 then
        local first = math.random(0, size - 1)
        headers["Range"] = "bytes=" .. first .. "-" .. (first + math.random(1024, 65536) - 1)
    end
    return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format("result requests=%d bytes=%d duration_us=%d errors=%d\n",
        summary.requests, summary.bytes, summary.duration,
        errors.connect + errors.read + errors.write + errors.timeout + errors.status))
end
