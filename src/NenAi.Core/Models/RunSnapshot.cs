using System;
using System.Collections.Generic;
using System.Text.Json;

namespace NenAi.Core.Models
{
    /// <summary>A run as the retrieval endpoint (or a webhook) describes it. Tolerant: unknown fields stay in <see cref="RawJson"/>.</summary>
    public sealed class RunSnapshot
    {
        public string MessageId { get; set; } = string.Empty;
        public string? WorkflowId { get; set; }
        /// <summary>The status string exactly as the server sent it.</summary>
        public string Status { get; set; } = string.Empty;
        public RunState State { get; set; }
        public bool IsTerminal => State.IsTerminal();
        public string? Error { get; set; }
        /// <summary>The workflow's inline result object, as JSON text.</summary>
        public string? ResultJson { get; set; }
        public IReadOnlyList<ResultLink> Results { get; set; } = Array.Empty<ResultLink>();
        public DateTimeOffset? ExpiresAt { get; set; }
        public DateTimeOffset RetrievedAt { get; set; }
        /// <summary>The server's Retry-After on a status answer: poll no sooner than this.</summary>
        public TimeSpan? PollAfter { get; set; }
        public string RawJson { get; set; } = "{}";

        /// <summary>Parses the retrieval/webhook JSON; never throws on unknown shapes (spec §11 Q3).</summary>
        public static RunSnapshot Parse(string json, string? fallbackMessageId, DateTimeOffset retrievedAt)
        {
            var status = new RunSnapshot { RawJson = json, RetrievedAt = retrievedAt, MessageId = fallbackMessageId ?? string.Empty };
            using var doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new JsonException("The run status is not a JSON object.");

            status.MessageId = Text(root, "message_id") ?? Text(root, "messageId") ?? status.MessageId;
            status.WorkflowId = Text(root, "workflow_id") ?? Text(root, "workflowId");
            status.Status = Text(root, "status") ?? string.Empty;
            status.State = RunStates.Parse(status.Status);
            status.Error = Text(root, "error") ?? Text(root, "error_message");
            if (root.TryGetProperty("result", out JsonElement result) && result.ValueKind != JsonValueKind.Null)
                status.ResultJson = result.GetRawText();
            if (root.TryGetProperty("expires_at", out JsonElement expires))
                status.ExpiresAt = ParseUnixTime(expires);
            status.Results = ParseResults(root);
            return status;
        }

        private static IReadOnlyList<ResultLink> ParseResults(JsonElement root)
        {
            var files = new List<ResultLink>();
            if (root.TryGetProperty("results", out JsonElement results) && results.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in results.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object) continue;
                    string? url = Text(item, "url");
                    if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)) continue;
                    long? size = item.TryGetProperty("size", out JsonElement s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out long n) && n >= 0 ? n : (long?)null;
                    files.Add(new ResultLink(Text(item, "name") ?? NameFromUrl(uri), uri, Text(item, "content_type"), size));
                }
            }
            // Other shapes the real service might use (spec §11 Q3).
            if (root.TryGetProperty("assets", out JsonElement assets) && assets.ValueKind == JsonValueKind.String &&
                Uri.TryCreate(assets.GetString(), UriKind.Absolute, out Uri? assetsUri))
            {
                AddIfNew(files, new ResultLink("assets.zip", assetsUri, "application/zip", null));
            }
            if (root.TryGetProperty("presigned_urls", out JsonElement presigned) && presigned.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in presigned.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String && Uri.TryCreate(p.Value.GetString(), UriKind.Absolute, out Uri? u))
                        AddIfNew(files, new ResultLink(p.Name, u, null, null));
                }
            }
            return files;
        }

        private static void AddIfNew(List<ResultLink> files, ResultLink file)
        {
            foreach (ResultLink f in files) if (string.Equals(f.Name, file.Name, StringComparison.OrdinalIgnoreCase)) return;
            files.Add(file);
        }

        private static string NameFromUrl(Uri uri)
        {
            string last = uri.Segments.Length > 0 ? Uri.UnescapeDataString(uri.Segments[uri.Segments.Length - 1]) : "result";
            return string.IsNullOrWhiteSpace(last) || last == "/" ? "result" : last;
        }

        /// <summary>Unix seconds (or milliseconds when that large) or a date string; anything out of range is no expiry at all.</summary>
        private static DateTimeOffset? ParseUnixTime(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long seconds))
            {
                const long MaxSeconds = 253402300799; // 9999-12-31T23:59:59Z
                if (seconds > 100_000_000_000) return seconds / 1000 <= MaxSeconds ? DateTimeOffset.FromUnixTimeMilliseconds(seconds) : (DateTimeOffset?)null;
                return seconds >= -62135596800 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
            }
            if (e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
                return parsed;
            return null;
        }

        private static string? Text(JsonElement obj, string name)
        {
            if (!obj.TryGetProperty(name, out JsonElement e)) return null;
            return e.ValueKind switch
            {
                JsonValueKind.String => e.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => e.GetRawText(),
            };
        }

        public override string ToString() => $"Run {MessageId}: {Status}";
    }
}
