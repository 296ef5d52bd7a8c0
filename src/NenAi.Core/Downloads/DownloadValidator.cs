using System;
using System.Globalization;
using System.Net.Http;
using System.Net.Http.Headers;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// What identifies the version of a file being downloaded (its strong ETag, else Last-Modified), so a resumed
    /// download asks for "the rest, if it is still the same file" (If-Range) and never glues two versions together.
    /// </summary>
    public static class DownloadValidator
    {
        public static string? From(HttpResponseMessage response)
        {
            EntityTagHeaderValue? etag = response.Headers.ETag;
            if (etag != null && !etag.IsWeak) return etag.Tag;
            DateTimeOffset? modified = response.Content.Headers.LastModified;
            return modified?.ToString("r", CultureInfo.InvariantCulture);
        }

        public static RangeConditionHeaderValue? ToIfRange(string? validator)
        {
            if (string.IsNullOrEmpty(validator)) return null;
            if (validator!.StartsWith("\"", StringComparison.Ordinal))
                return EntityTagHeaderValue.TryParse(validator, out EntityTagHeaderValue? tag) ? new RangeConditionHeaderValue(tag) : null;
            return DateTimeOffset.TryParseExact(validator, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date)
                ? new RangeConditionHeaderValue(date) : null;
        }
    }
}
