using System.Collections.Generic;

namespace NenAi.Emulator
{
    /// <summary>A fault for the next <see cref="Count"/> matching requests (deterministic tests).</summary>
    public sealed class ScriptedFault
    {
        /// <summary>
        /// 429, 503, 500, 500-after-accept, reset, reset-after-accept, latency, latency-after-accept (the run is
        /// recorded, then the answer waits LatencyMs), 404, raw (answer with StatusCode,
        /// Headers and Body as given); downloads only: truncate-download, oversize-download, slow-download,
        /// stall-download (headers and a few bytes, then nothing), redirect-download (302 to the same link),
        /// bad-content-range (a 206 that does not continue where asked).
        /// </summary>
        public string Kind { get; set; } = "503";
        /// <summary>"POST /runs", "GET /runs", "GET /files" or "*".</summary>
        public string Route { get; set; } = "*";
        /// <summary>Only the requests about this run (GET /runs/{id}, its files); null: any run's.</summary>
        public string? MessageId { get; set; }
        public int Count { get; set; } = 1;
        public int RetryAfterSeconds { get; set; } = 1;
        /// <summary>Sent as Retry-After verbatim instead of <see cref="RetryAfterSeconds"/> (e.g. "1e20", "NaN").</summary>
        public string? RetryAfterText { get; set; }
        /// <summary>Send Retry-After as an HTTP date instead of seconds.</summary>
        public bool RetryAfterAsDate { get; set; }
        public int LatencyMs { get; set; }
        /// <summary>For "raw": the status code, headers and body to answer with.</summary>
        public int StatusCode { get; set; } = 200;
        public Dictionary<string, string> Headers { get; set; } = new Dictionary<string, string>();
        public string? Body { get; set; }
    }
}
