using System;
using System.Globalization;
using System.Linq;
using System.Net.Http;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Reads Retry-After in both of its forms, delta seconds or an HTTP date, defensively: a value that does not
    /// parse is ignored, a negative one is zero, and anything beyond a day is a day (which no retry budget waits for).
    /// </summary>
    public static class RetryAfter
    {
        public static readonly TimeSpan Longest = TimeSpan.FromDays(1);

        public static TimeSpan? Read(HttpResponseMessage response, DateTimeOffset now)
        {
            var header = response.Headers.RetryAfter;
            if (header?.Delta is TimeSpan delta) return Clamp(delta);
            if (header?.Date is DateTimeOffset date) return Clamp(date - now);
            // Be lenient with values the typed parser refused (e.g. "1.5").
            if (response.Headers.TryGetValues("Retry-After", out var values))
                return Parse(values.FirstOrDefault(), now);
            return null;
        }

        public static TimeSpan? Parse(string? value, DateTimeOffset now)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
            {
                if (double.IsNaN(seconds) || double.IsInfinity(seconds)) return null;
                return seconds >= Longest.TotalSeconds ? Longest : Clamp(TimeSpan.FromSeconds(seconds));
            }
            if (DateTimeOffset.TryParseExact(value!.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
                return Clamp(date - now);
            return null;
        }

        private static TimeSpan Clamp(TimeSpan t) => t < TimeSpan.Zero ? TimeSpan.Zero : t > Longest ? Longest : t;
    }
}
