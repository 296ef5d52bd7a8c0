using System;
using System.Text.Json;
using NenAi.Core.Models;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// What makes a verified body a run update, checked before anything of it is acknowledged, kept or written: a JSON
    /// object whose message_id is a string that <see cref="MessageIds"/> accepts (the rule every other message id meets)
    /// and whose status is a non-empty string of at most <see cref="MaxStatusLength"/> characters. Any such status is an
    /// update (one this version does not know is surfaced as-is); anything else is refused (400), never stored.
    /// </summary>
    public static class WebhookUpdate
    {
        /// <summary>A status is a word ("processing", "success"); a longer one is no status.</summary>
        public const int MaxStatusLength = 64;

        /// <summary>The update, or null and why the body is not one (a sentence fragment that names no value too long to show).</summary>
        public static RunSnapshot? Read(string json, DateTimeOffset receivedAt, out string? problem)
        {
            problem = Problem(json);
            return problem is null ? RunSnapshot.Parse(json, null, receivedAt) : null;
        }

        private static string? Problem(string json)
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(json);
            }
            catch (JsonException)
            {
                return "it is not JSON";
            }
            using (doc)
            {
                JsonElement root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) return "it is not a JSON object";
                if (!TryGet(root, out JsonElement id, "message_id", "messageId")) return "it has no message_id";
                if (id.ValueKind != JsonValueKind.String) return $"its message_id is {Kind(id)}, not a string";
                string messageId = id.GetString()!.Trim();
                if (MessageIds.Problem(messageId) is string bad) return $"its message_id {MessageIds.Shown(messageId)} is not one: {bad}";
                if (!TryGet(root, out JsonElement status, "status")) return "it has no status";
                if (status.ValueKind != JsonValueKind.String) return $"its status is {Kind(status)}, not a string";
                string text = status.GetString()!.Trim();
                if (text.Length == 0) return "its status is empty";
                if (text.Length > MaxStatusLength) return $"its status is {text.Length} characters long (a status has at most {MaxStatusLength})";
                foreach (char c in text)
                    if (c < 32 || c == 127) return "its status holds control characters";
                return null;
            }
        }

        private static bool TryGet(JsonElement root, out JsonElement value, params string[] names)
        {
            foreach (string name in names)
                if (root.TryGetProperty(name, out value)) return true;
            value = default;
            return false;
        }

        private static string Kind(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => "not a string",
        };
    }
}
