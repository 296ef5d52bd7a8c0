namespace NenAi.Emulator
{
    /// <summary>A fault for the next <see cref="Count"/> matching requests (deterministic tests).</summary>
    public sealed class ScriptedFault
    {
        /// <summary>429, 503, 500, 500-after-accept, reset, reset-after-accept, latency, truncate-download, oversize-download, slow-download, 404.</summary>
        public string Kind { get; set; } = "503";
        /// <summary>"POST /runs", "GET /runs", "GET /files" or "*".</summary>
        public string Route { get; set; } = "*";
        public int Count { get; set; } = 1;
        public int RetryAfterSeconds { get; set; } = 1;
        /// <summary>Send Retry-After as an HTTP date instead of seconds.</summary>
        public bool RetryAfterAsDate { get; set; }
        public int LatencyMs { get; set; }
    }
}
