using System;

namespace NenAi.Core.Webhooks
{
    public sealed class WebhookReceiverOptions
    {
        public WebhookListenerOptions Listener { get; set; } = new WebhookListenerOptions();
        /// <summary>
        /// True: the receiver follows the runs added to it and is done when each has finished (or timed out); updates
        /// of other runs are ignored. False: it hands out every new final update until it is stopped (a service).
        /// </summary>
        public bool WaitForRuns { get; set; }
        /// <summary>A run waited for whose final webhook has not come this long after it was added is polled (GET /runs/{id}).</summary>
        public TimeSpan FallbackAfter { get; set; } = TimeSpan.FromSeconds(60);
        /// <summary>How often a run is polled once its webhook is late.</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);
        /// <summary>Status queries in flight at once.</summary>
        public int MaxConcurrentPolls { get; set; } = 16;
        /// <summary>Polls of a run that may fail in a row before it is given up (without <see cref="Timeout"/>).</summary>
        public int MaxConsecutiveFailures { get; set; } = 6;
        /// <summary>
        /// Waiting for runs: how long each run is waited for from when it was added (as Wait-NenRun's -TimeoutSec).
        /// Otherwise: how long the receiver listens. Null: no limit.
        /// </summary>
        public TimeSpan? Timeout { get; set; }
        /// <summary>Also hand out interim updates (processing, or any status not known to be final).</summary>
        public bool IncludeInterim { get; set; }
    }
}
