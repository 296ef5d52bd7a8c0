using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// One line of a journal file: the batch header ({"batchId":...}) or a row record ({"key":...,"state":...}).
    /// Anything else (a line torn by a crash) is neither and is skipped by readers.
    /// </summary>
    public readonly struct JournalLine
    {
        private JournalLine(string? batchId, JournalEntry? entry)
        {
            BatchId = batchId;
            Entry = entry;
        }

        public string? BatchId { get; }
        public JournalEntry? Entry { get; }

        public static JournalLine Parse(string line)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object) return default;
                if (r.TryGetProperty("batchId", out JsonElement batch) && batch.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(batch.GetString()))
                    return new JournalLine(batch.GetString(), null);
                if (!r.TryGetProperty("key", out JsonElement key) || key.ValueKind != JsonValueKind.String) return default;
                if (!r.TryGetProperty("state", out JsonElement state) || state.ValueKind != JsonValueKind.String ||
                    !Enum.TryParse(state.GetString(), true, out JournalState parsed)) return default;
                return new JournalLine(null, new JournalEntry
                {
                    Key = key.GetString()!,
                    State = parsed,
                    WorkflowId = Str(r, "workflowId"),
                    MessageId = Str(r, "messageId"),
                    IdempotencyKey = Str(r, "idempotencyKey"),
                    ErrorId = Str(r, "errorId"),
                    At = r.TryGetProperty("at", out JsonElement at) && at.ValueKind == JsonValueKind.String &&
                         DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t : DateTimeOffset.MinValue,
                });
            }
            catch (JsonException)
            {
                return default;
            }
        }

        public static string Header(string batchId, DateTimeOffset created) => Write(w =>
        {
            w.WriteString("batchId", batchId);
            w.WriteString("created", created.ToString("o", CultureInfo.InvariantCulture));
            w.WriteString("by", "NenAi/" + Http.UserAgent.Version);
        });

        public static string Serialize(JournalEntry e) => Write(w =>
        {
            w.WriteString("key", e.Key);
            w.WriteString("state", e.State.ToString());
            if (e.WorkflowId != null) w.WriteString("workflowId", e.WorkflowId);
            if (e.MessageId != null) w.WriteString("messageId", e.MessageId);
            if (e.IdempotencyKey != null) w.WriteString("idempotencyKey", e.IdempotencyKey);
            if (e.ErrorId != null) w.WriteString("errorId", e.ErrorId);
            w.WriteString("at", e.At.ToString("o", CultureInfo.InvariantCulture));
        });

        private static string Write(Action<Utf8JsonWriter> properties)
        {
            using var ms = new MemoryStream(256);
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                properties(w);
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }

        private static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
