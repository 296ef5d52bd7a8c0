using System.Threading;

namespace NenAi.Core.Webhooks
{
    /// <summary>What a receiver has seen so far, for progress, -Verbose and the figures tests report. Thread-safe.</summary>
    public sealed class WebhookCounters
    {
        private int _requests, _accepted, _refused, _tooLarge, _notAllowed, _malformed, _busy, _abandoned;
        private int _duplicates, _ignored, _written, _byPolling, _late;

        /// <summary>Requests of any kind that reached the listener.</summary>
        public int Requests => Volatile.Read(ref _requests);
        /// <summary>Verified updates answered 200 (duplicates included).</summary>
        public int Accepted => Volatile.Read(ref _accepted);
        /// <summary>401: missing or wrong signature.</summary>
        public int Refused => Volatile.Read(ref _refused);
        /// <summary>413: a body past the size limit.</summary>
        public int TooLarge => Volatile.Read(ref _tooLarge);
        /// <summary>405: not a POST.</summary>
        public int NotAllowed => Volatile.Read(ref _notAllowed);
        /// <summary>400: correctly signed, but not a run status.</summary>
        public int Malformed => Volatile.Read(ref _malformed);
        /// <summary>503: every delivery slot was taken.</summary>
        public int Busy => Volatile.Read(ref _busy);
        /// <summary>Requests whose body did not arrive in time (408, connection closed), or whose client went away.</summary>
        public int Abandoned => Volatile.Read(ref _abandoned);
        /// <summary>Verified updates already seen: (message_id, status) came before.</summary>
        public int Duplicates => Volatile.Read(ref _duplicates);
        /// <summary>Verified updates not acted on: for a run not waited for, or for a run already reported.</summary>
        public int Ignored => Volatile.Read(ref _ignored);
        /// <summary>Updates handed out to be written.</summary>
        public int Written => Volatile.Read(ref _written);
        /// <summary>Runs whose final status came from a status query, not a webhook.</summary>
        public int CompletedByPolling => Volatile.Read(ref _byPolling);
        /// <summary>Runs whose final webhook had not come within the fallback time.</summary>
        public int Late => Volatile.Read(ref _late);

        internal void CountRequest() => Interlocked.Increment(ref _requests);
        internal void CountAccepted() => Interlocked.Increment(ref _accepted);
        internal void CountRefused() => Interlocked.Increment(ref _refused);
        internal void CountTooLarge() => Interlocked.Increment(ref _tooLarge);
        internal void CountNotAllowed() => Interlocked.Increment(ref _notAllowed);
        internal void CountMalformed() => Interlocked.Increment(ref _malformed);
        internal void CountBusy() => Interlocked.Increment(ref _busy);
        internal void CountAbandoned() => Interlocked.Increment(ref _abandoned);
        internal void CountDuplicate() => Interlocked.Increment(ref _duplicates);
        internal void CountIgnored() => Interlocked.Increment(ref _ignored);
        internal void CountWritten() => Interlocked.Increment(ref _written);
        internal void CountByPolling() => Interlocked.Increment(ref _byPolling);
        internal void CountLate(int runs) => Interlocked.Add(ref _late, runs);

        public override string ToString() =>
            $"{Requests} request(s): {Accepted} accepted ({Duplicates} duplicate(s), {Ignored} ignored), {Refused} refused (401), " +
            $"{TooLarge} too large (413), {NotAllowed} not POST (405), {Malformed} malformed (400), {Busy} busy (503), {Abandoned} abandoned; " +
            $"{Written} update(s) written, {CompletedByPolling} run(s) completed by polling, {Late} late";
    }
}
