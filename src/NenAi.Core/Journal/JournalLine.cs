using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// One line of a journal file, the one place journal lines are read: the batch header ({"batchId":...}), a row
    /// record ({"key":...,"state":...}), some other JSON object (written by a later version: passed over), or an
    /// unreadable line (torn by a crash, or still being written), which readers count and skip.
    /// </summary>
    public readonly struct JournalLine
    {
        private JournalLine(bool readable, string? batchId, JournalEntry? entry)
        {
            IsReadable = readable;
            BatchId = batchId;
            Entry = entry;
        }

        public bool IsReadable { get; }
        public string? BatchId { get; }
        public JournalEntry? Entry { get; }

        private static readonly JournalLine Unreadable = new JournalLine(false, null, null);

        /// <summary>The one warning for lines a reader skipped, whichever file of lines (a journal, a receiver's state file).</summary>
        public static string? UnreadableWarning(string file, int count) =>
            count > 0 ? $"The {file} had {count} unreadable line(s) (cut short by a crash, or still being written); they were ignored." : null;

        public static JournalLine Parse(string line)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object) return Unreadable;
                if (r.TryGetProperty("batchId", out JsonElement batch) && batch.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(batch.GetString()))
                    return new JournalLine(true, batch.GetString(), null);
                if (!r.TryGetProperty("key", out JsonElement key)) return new JournalLine(true, null, null);
                if (key.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(key.GetString())) return Unreadable;
                if (!r.TryGetProperty("state", out JsonElement state) || state.ValueKind != JsonValueKind.String ||
                    !Enum.TryParse(state.GetString(), true, out JournalState parsed) || !Enum.IsDefined(typeof(JournalState), parsed)) return Unreadable;
                return new JournalLine(true, null, new JournalEntry
                {
                    Key = key.GetString()!,
                    State = parsed,
                    WorkflowId = Str(r, "workflowId"),
                    MessageId = Str(r, "messageId"),
                    IdempotencyKey = Str(r, "idempotencyKey"),
                    ErrorId = Str(r, "errorId"),
                    Fingerprint = Str(r, "fingerprint"),
                    At = r.TryGetProperty("at", out JsonElement at) && at.ValueKind == JsonValueKind.String &&
                         DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset t) ? t : DateTimeOffset.MinValue,
                    Row = r.TryGetProperty("row", out JsonElement row) && row.ValueKind == JsonValueKind.Number && row.TryGetInt32(out int n) && n > 0 ? n : 0,
                });
            }
            catch (JsonException)
            {
                return Unreadable;
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
            if (e.Fingerprint != null) w.WriteString("fingerprint", e.Fingerprint);
            if (e.Row > 0) w.WriteNumber("row", e.Row);
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
