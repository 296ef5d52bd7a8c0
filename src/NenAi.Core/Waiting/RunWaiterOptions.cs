using System;

namespace NenAi.Core.Waiting
{
    public sealed class RunWaiterOptions
    {
        /// <summary>How often each pending run is asked about (at most once per interval).</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
        /// <summary>Concurrent status requests.</summary>
        public int MaxConcurrency { get; set; } = 16;
        /// <summary>Give up after this long; null waits for ever.</summary>
        public TimeSpan? Timeout { get; set; }
    }
}
