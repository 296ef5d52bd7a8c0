using System;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Exponential back-off with "equal jitter" (half fixed, half random, capped at 30 s), so clients that
    /// failed together spread out instead of retrying in step.
    /// </summary>
    public static class Backoff
    {
        public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);
        [ThreadStatic] private static Random? _random;

        /// <summary>The wait before retry number <paramref name="retry"/> (0-based).</summary>
        public static TimeSpan Delay(TimeSpan baseDelay, int retry)
        {
            double exp = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(retry, 0), 16));
            double capped = Math.Min(exp, Max.TotalMilliseconds);
            return TimeSpan.FromMilliseconds(capped / 2 + NextDouble() * capped / 2);
        }

        public static double NextDouble()
        {
            _random ??= new Random(Guid.NewGuid().GetHashCode());
            return _random.NextDouble();
        }
    }
}
