using System;
using System.Diagnostics;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Decides whether another attempt of one request fits and how long to wait first: the server's Retry-After
    /// when given, else <see cref="Backoff"/>. Capped by time (the retry budget, counted from this request's first
    /// failure, so a request that waited its turn through a long pause, or a long download, still has its retries) and,
    /// for the failures that count, by the number of retries.
    /// </summary>
    public sealed class RetryBudget
    {
        private readonly int _maxRetries;
        private readonly TimeSpan _maxDuration;
        private readonly TimeSpan _baseDelay;
        private readonly Stopwatch _elapsed = new Stopwatch();

        public RetryBudget(int maxRetries, TimeSpan maxDuration, TimeSpan baseDelay)
        {
            _maxRetries = Math.Max(0, maxRetries);
            _maxDuration = maxDuration;
            _baseDelay = baseDelay;
        }

        /// <summary>Retries granted so far (of every kind).</summary>
        public int RetriesUsed { get; private set; }

        /// <summary>Retries granted that count against the number of retries.</summary>
        private int _counted;

        /// <summary>
        /// Returns false when the budget is spent; a Retry-After beyond the remaining time is not waited for.
        /// <paramref name="counted"/> false: a refusal the batch waits out (429/503), bounded by time alone.
        /// </summary>
        public bool TryNext(TimeSpan? retryAfter, out TimeSpan delay, bool counted = true)
        {
            _elapsed.Start(); // from the first failure
            delay = TimeSpan.Zero;
            if (counted && _counted >= _maxRetries) return false;
            delay = retryAfter ?? Backoff.Delay(_baseDelay, RetriesUsed);
            if (_elapsed.Elapsed + delay > _maxDuration) return false;
            RetriesUsed++;
            if (counted) _counted++;
            return true;
        }
    }
}
