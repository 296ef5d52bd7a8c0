using System;
using System.Threading;

namespace NenAi.Core.Webhooks
{
    /// <summary>What a receiver counts: one counter each.</summary>
    internal enum WebhookEvent { Request, Accepted, Refused, TooLarge, NotAllowed, Malformed, Busy, Abandoned, Duplicate, Ignored, Written, ByPolling, Late, BacklogFull, Recovered, UnknownStatus }

    /// <summary>What a receiver has seen so far, for progress, -Verbose and the figures tests report. Thread-safe.</summary>
    public sealed class WebhookCounters
    {
        private readonly int[] _counts = new int[Enum.GetValues(typeof(WebhookEvent)).Length];

        /// <summary>Requests of any kind that reached the listener.</summary>
        public int Requests => Read(WebhookEvent.Request);
        /// <summary>Verified updates answered 200 (duplicates included).</summary>
        public int Accepted => Read(WebhookEvent.Accepted);
        /// <summary>401: missing or wrong signature.</summary>
        public int Refused => Read(WebhookEvent.Refused);
        /// <summary>413: a body past the size limit.</summary>
        public int TooLarge => Read(WebhookEvent.TooLarge);
        /// <summary>405: not a POST.</summary>
        public int NotAllowed => Read(WebhookEvent.NotAllowed);
        /// <summary>400: correctly signed, but not a run status.</summary>
        public int Malformed => Read(WebhookEvent.Malformed);
        /// <summary>503: the requests in progress held all the memory allowed them.</summary>
        public int Busy => Read(WebhookEvent.Busy);
        /// <summary>503: the backlog of updates answered 200 and not yet written was full.</summary>
        public int BacklogFull => Read(WebhookEvent.BacklogFull);
        /// <summary>Updates an earlier receiver with the same state file answered 200 and never wrote, written by this one.</summary>
        public int Recovered => Read(WebhookEvent.Recovered);
        /// <summary>Requests whose body did not arrive in time (408, connection closed), or whose client went away.</summary>
        public int Abandoned => Read(WebhookEvent.Abandoned);
        /// <summary>Verified updates already seen: (message_id, status) came before.</summary>
        public int Duplicates => Read(WebhookEvent.Duplicate);
        /// <summary>Verified updates not acted on: for a run not waited for, or for a run already reported.</summary>
        public int Ignored => Read(WebhookEvent.Ignored);
        /// <summary>Verified updates, each run and status once, whose status this version does not know (treated as still running).</summary>
        public int UnknownStatuses => Read(WebhookEvent.UnknownStatus);
        /// <summary>Updates handed out to be written.</summary>
        public int Written => Read(WebhookEvent.Written);
        /// <summary>Runs whose final status came from a status query, not a webhook.</summary>
        public int CompletedByPolling => Read(WebhookEvent.ByPolling);
        /// <summary>Runs whose final webhook had not come within the fallback time.</summary>
        public int Late => Read(WebhookEvent.Late);

        private int Read(WebhookEvent what) => Volatile.Read(ref _counts[(int)what]);

        internal void Count(WebhookEvent what, int times = 1) => Interlocked.Add(ref _counts[(int)what], times);

        public override string ToString() =>
            $"{Requests} request(s): {Accepted} accepted ({Duplicates} duplicate(s), {Ignored} ignored, {UnknownStatuses} with a status not known), {Refused} refused (401), " +
            $"{TooLarge} too large (413), {NotAllowed} not POST (405), {Malformed} malformed (400), {Busy} busy (503), {BacklogFull} backlog full (503), {Abandoned} abandoned; " +
            $"{Written} update(s) written ({Recovered} recovered from the state file), {CompletedByPolling} run(s) completed by polling, {Late} late";
    }
}
