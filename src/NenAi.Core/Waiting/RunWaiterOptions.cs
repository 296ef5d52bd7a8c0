using System;

namespace NenAi.Core.Waiting
{
    public sealed class RunWaiterOptions
    {
        /// <summary>How often each pending run is asked about (at most once per interval).</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
        /// <summary>
        /// How long after joining a run is first asked about (zero: at once). A webhook receiver asks only when
        /// the run's final webhook is late; a status reported with <see cref="RunWaiter.Report"/> needs no request.
        /// </summary>
        public TimeSpan FirstPollDelay { get; set; } = TimeSpan.Zero;
        /// <summary>Concurrent status requests.</summary>
        public int MaxConcurrency { get; set; } = 16;
        /// <summary>How long each run is waited for, counted from when it joins the wait; null waits for ever.</summary>
        public TimeSpan? Timeout { get; set; }
        /// <summary>
        /// Polls in a row that may fail (each after its own retries) before a run is given up with
        /// NenStatusUnavailable; bounds endless transient errors when there is no deadline.
        /// </summary>
        public int MaxConsecutiveFailures { get; set; } = 6;
        /// <summary>
        /// True (the default): what stops a batch stops the wait, with one reason for every run not finished (each reported
        /// <see cref="WaitOutcomeKind.Stopped"/>): a status outage (the queries of several runs failing in a row, with no
        /// answer in between, for longer than one query's own retries would take: the circuit's read outage window) and a
        /// 429/503 storm beyond the retry budget, as well as refused credentials and a service that cannot be reached.
        /// False: the queries still pause and probe through an outage or a storm (a few requests, not one per run), but
        /// neither stops the wait; each run gives up on its own (<see cref="MaxConsecutiveFailures"/>). For a caller whose
        /// polling is only a safety net (a webhook receiver).
        /// </summary>
        public bool StopAtOutage { get; set; } = true;
        /// <summary>The first run that ends in an error or a timeout stops the wait: no new query leaves (-ErrorAction Stop).</summary>
        public bool StopAtFirstError { get; set; }
        /// <summary>
        /// Polling is only a safety net beside statuses <see cref="RunWaiter.Report"/>ed from elsewhere (a webhook
        /// receiver): failing polls never end a run or the wait, whatever the failure (transient, an answer that is not
        /// the API's, a run the service does not know). Once the circuit has tripped (refused credentials, an API that
        /// cannot be reached, answers that are not the API's for every run) no query leaves any more, and a run whose
        /// polls keep failing is asked again later; each run still ends by a reported status, a poll that answers, or
        /// its deadline (or the wait's <see cref="RunWaiter.Stop"/>).
        /// </summary>
        public bool KeepWaitingWhenPollsFail { get; set; }
        /// <summary>
        /// The longest -TimeoutSec both builds' timers can wait: a deadline becomes a CancelAfter and a semaphore wait,
        /// which take at most Int32.MaxValue milliseconds (about 24.8 days) on .NET Framework as on .NET.
        /// </summary>
        public const int MaxTimeoutSeconds = int.MaxValue / 1000;
    }
}
