using System;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace NenAi.Core.Webhooks
{
    internal enum WebhookStateLineKind
    {
        /// <summary>Answered 200 and not yet written: the line carries the verified body, so a restarted receiver can write it.</summary>
        Received,
        /// <summary>Written (WriteObject returned), or acted on: the format of every line before bodies were kept.</summary>
        Written,
        /// <summary>Received, then found to need no writing (a run not waited for, an update overtaken by its run's final one).</summary>
        Dropped,
    }

    /// <summary>
    /// One line of a -StatePath file (JSON Lines): {"message_id","status","received","body"} for an update answered 200,
    /// {"message_id","status","at"} once it is written, {"message_id","status","dropped"} when it needs no writing.
    /// </summary>
    internal readonly struct WebhookStateLine
    {
        public WebhookStateLine(WebhookStateLineKind kind, string messageId, string status, string? body = null)
        {
            Kind = kind;
            MessageId = messageId;
            Status = status;
            Body = body;
        }

        public WebhookStateLineKind Kind { get; }
        public string MessageId { get; }
        public string Status { get; }
        /// <summary>The verified body, as received (Received lines only).</summary>
        public string? Body { get; }

        public byte[] ToBytes(DateTimeOffset at)
        {
            using var buffer = new MemoryStream(128 + (Body?.Length ?? 0));
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("message_id", MessageId);
                w.WriteString("status", Status);
                string time = at.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
                switch (Kind)
                {
                    case WebhookStateLineKind.Received:
                        w.WriteString("received", time);
                        w.WriteString("body", Body ?? "{}");
                        break;
                    case WebhookStateLineKind.Dropped:
                        w.WriteString("dropped", time);
                        break;
                    default:
                        w.WriteString("at", time);
                        break;
                }
                w.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            return buffer.ToArray();
        }

        /// <summary>False for a line that is not one (torn by a crash mid-write, edited by hand).</summary>
        public static bool TryParse(string line, out WebhookStateLine parsed)
        {
            parsed = default;
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object ||
                    !root.TryGetProperty("message_id", out JsonElement id) || id.ValueKind != JsonValueKind.String ||
                    !root.TryGetProperty("status", out JsonElement st) || st.ValueKind != JsonValueKind.String) return false;
                string messageId = id.GetString()!, status = st.GetString()!;
                if (messageId.Trim().Length == 0) return false;
                if (root.TryGetProperty("body", out JsonElement body))
                {
                    if (body.ValueKind != JsonValueKind.String) return false;
                    parsed = new WebhookStateLine(WebhookStateLineKind.Received, messageId, status, body.GetString());
                }
                else
                {
                    parsed = new WebhookStateLine(root.TryGetProperty("dropped", out _) ? WebhookStateLineKind.Dropped : WebhookStateLineKind.Written, messageId, status);
                }
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
