using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using NenAi.Core.Errors;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// Reads a Start-NenRun journal for listing, never for writing: no lock is taken and the batch that owns the
    /// file may still be appending to it. Lines that are JSON but not row records (a batch header) are passed
    /// over; lines that cannot be read (torn by a crash) are counted, never fatal.
    /// </summary>
    public static class JournalReader
    {
        public static JournalSnapshot Read(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            var rows = new List<JournalEntry>();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            int unreadable = 0;
            try
            {
                // ReadWrite|Delete sharing: the batch holding the journal keeps writing while we read.
                using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
                using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    JournalEntry? entry = ParseRecord(line, out bool isRecord);
                    if (entry is null)
                    {
                        if (isRecord) unreadable++;
                        continue;
                    }
                    // The last record of a row is its state; the row keeps the place where it first appeared.
                    if (index.TryGetValue(entry.Key, out int at)) rows[at] = entry;
                    else
                    {
                        index[entry.Key] = rows.Count;
                        rows.Add(entry);
                    }
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new NenException(NenErrorIds.JournalNotFound, NenErrorCategory.ObjectNotFound, $"The journal '{full}' does not exist.", ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new NenException(NenErrorIds.JournalCorrupt, NenErrorCategory.ResourceUnavailable, $"The journal '{full}' cannot be read: {ex.Message}", ex);
            }
            return new JournalSnapshot(full, rows, unreadable);
        }

        /// <summary>
        /// One journal line as a row record. Null with <paramref name="isRecord"/> false for a line that is some
        /// other JSON object (no "key"); null with <paramref name="isRecord"/> true for a line that cannot be read.
        /// </summary>
        public static JournalEntry? ParseRecord(string line, out bool isRecord)
        {
            isRecord = true;
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object) return null;
                if (!r.TryGetProperty("key", out JsonElement key))
                {
                    isRecord = false;
                    return null;
                }
                if (key.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(key.GetString())) return null;
                if (!r.TryGetProperty("state", out JsonElement state) || state.ValueKind != JsonValueKind.String ||
                    !Enum.TryParse(state.GetString(), true, out JournalState parsed) || !Enum.IsDefined(typeof(JournalState), parsed)) return null;
                return new JournalEntry
                {
                    Key = key.GetString()!,
                    State = parsed,
                    WorkflowId = Text(r, "workflowId"),
                    MessageId = Text(r, "messageId"),
                    IdempotencyKey = Text(r, "idempotencyKey"),
                    ErrorId = Text(r, "errorId"),
                    At = r.TryGetProperty("at", out JsonElement at) && at.ValueKind == JsonValueKind.String &&
                         DateTimeOffset.TryParse(at.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out DateTimeOffset t)
                        ? t : DateTimeOffset.MinValue,
                };
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string? Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
