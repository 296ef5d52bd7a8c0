namespace NenAi.Emulator
{
    /// <summary>
    /// Random faults, drawn once per API request (POST /runs, GET /runs/{id}) unless <see cref="ApplyTo"/>
    /// narrows them. Download faults apply to presigned downloads.
    /// </summary>
    public sealed class FaultSettings
    {
        public int LatencyMs { get; set; }
        /// <summary>A random 0..N ms added to the latency.</summary>
        public int JitterMs { get; set; }
        public double Rate429 { get; set; }
        public double Rate503 { get; set; }
        /// <summary>The run is accepted, then the answer is a 500.</summary>
        public double Rate500AfterAccept { get; set; }
        /// <summary>A 500 before anything is accepted (an outage: the service fails, no run starts).</summary>
        public double Rate500 { get; set; }
        /// <summary>The connection is reset before anything is accepted.</summary>
        public double RateReset { get; set; }
        /// <summary>The run is accepted, then the connection is reset.</summary>
        public double RateResetAfterAccept { get; set; }
        public int RetryAfterSeconds { get; set; } = 1;
        /// <summary>"all", "post" or "get".</summary>
        public string ApplyTo { get; set; } = "all";
        /// <summary>Throttles downloads (0: unthrottled).</summary>
        public int DownloadBytesPerSecond { get; set; }
        /// <summary>Downloads cut off half way.</summary>
        public double RateTruncateDownload { get; set; }
        public int? Seed { get; set; }
        /// <summary>A storm phase: after this many matching requests (0: none), the next <see cref="StormLength"/> all get <see cref="StormKind"/>.</summary>
        public int StormAfter { get; set; }
        public int StormLength { get; set; }
        /// <summary>A storm phase by time instead (0: none): from the first matching request after <see cref="StormAfter"/>, every one for this many seconds gets <see cref="StormKind"/>.</summary>
        public double StormForSeconds { get; set; }
        /// <summary>What the storm phase answers: "429" (a rate-limit storm, the default) or "500" (an outage), or any scripted kind.</summary>
        public string StormKind { get; set; } = "429";
        public int StormRetryAfterSeconds { get; set; }
    }
}
