using System;
using System.Diagnostics;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Decides whether another attempt of one request fits and how long to wait first: the server's Retry-After
    /// when given, else <see cref="Backoff"/>; capped by attempt count and total time.
    /// </summary>
    public sealed class RetryBudget
    {
        private readonly int _maxRetries;
        private readonly TimeSpan _maxDuration;
        private readonly TimeSpan _baseDelay;
        private readonly Stopwatch _elapsed = Stopwatch.StartNew();

        public RetryBudget(int maxRetries, TimeSpan maxDuration, TimeSpan baseDelay)
        {
            _maxRetries = Math.Max(0, maxRetries);
            _maxDuration = maxDuration;
            _baseDelay = baseDelay;
        }

        public int RetriesUsed { get; private set; }

        /// <summary>Returns false when the budget is spent; a Retry-After beyond the remaining time is not waited for.</summary>
        public bool TryNext(TimeSpan? retryAfter, out TimeSpan delay)
        {
            delay = TimeSpan.Zero;
            if (RetriesUsed >= _maxRetries) return false;
            delay = retryAfter ?? Backoff.Delay(_baseDelay, RetriesUsed);
            if (_elapsed.Elapsed + delay > _maxDuration) return false;
            RetriesUsed++;
            return true;
        }
    }
}
