using System;

namespace NenAi.Core.Webhooks
{
    public sealed class WebhookReceiverOptions
    {
        public const int DefaultMaxBacklog = 10_000;

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
        /// <summary>
        /// Updates answered 200 and not yet written at most. When the backlog is full a new update is answered 503 with
        /// Retry-After (<see cref="BacklogRetryAfterSeconds"/>), so the sender sends it again later instead of it
        /// waiting in memory without bound.
        /// </summary>
        public int MaxBacklog { get; set; } = DefaultMaxBacklog;
        /// <summary>The row a run's tag (what the caller added with it) came from, such as "row 3 (JobId J-3)", or null: how the error that names runs names them.</summary>
        public Func<object?, string?>? RowOf { get; set; }
        /// <summary>The Retry-After of a 503 for a full backlog: the pipeline writes at its own pace.</summary>
        public int BacklogRetryAfterSeconds { get; set; } = 5;
    }
}
