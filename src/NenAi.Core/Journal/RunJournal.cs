using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// An append-only JSON Lines file recording each row key → state/messageId. "Submitting" is written
    /// before a request leaves, so a crash can never make a re-run start a row twice. The file is held
    /// exclusively while open, so two batches cannot share one journal by accident.
    /// </summary>
    public sealed class RunJournal : IDisposable
    {
        private readonly Dictionary<string, JournalEntry> _entries = new Dictionary<string, JournalEntry>(StringComparer.Ordinal);
        private readonly object _gate = new object();
        private readonly FileStream _stream;
        private readonly FileStream _lock;
        private readonly StreamWriter _writer;
        private bool _disposed;

        private RunJournal(string path, FileStream stream, FileStream lockFile)
        {
            Path = path;
            _stream = stream;
            _lock = lockFile;
            _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
        }

        public string Path { get; }
        /// <summary>Lines that could not be read (a line cut short by a crash, say); they are ignored.</summary>
        public int SkippedLines { get; private set; }
        /// <summary>Rows the journal knew when it was opened.</summary>
        public int Count { get { lock (_gate) return _entries.Count; } }

        public static RunJournal Open(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            string? dir = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            FileStream? lockFile = null, stream;
            try
            {
                // An exclusive lock file (FileShare is only advisory on Unix for shared opens); the
                // journal itself stays readable by others while the batch runs.
                lockFile = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            }
            catch (IOException ex)
            {
                lockFile?.Dispose();
                throw new NenException(NenErrorIds.JournalCorrupt, NenErrorCategory.ResourceUnavailable,
                    $"The journal '{full}' cannot be opened; is another batch using it? ({ex.Message})", ex);
            }
            var journal = new RunJournal(full, stream, lockFile);
            try
            {
                journal.Load();
            }
            catch
            {
                journal.Dispose();
                throw;
            }
            return journal;
        }

        private void Load()
        {
            _stream.Position = 0;
            var reader = new StreamReader(_stream, Encoding.UTF8, false, 64 * 1024, leaveOpen: true);
            string? line;
            bool endsWithNewline = true;
            while ((line = reader.ReadLine()) != null)
            {
                if (line.Length == 0) continue;
                JournalEntry? entry = TryParse(line);
                if (entry is null) { SkippedLines++; continue; }
                _entries[entry.Key] = entry;
            }
            // A torn last line (no newline) must not glue itself to the next record.
            if (_stream.Length > 0)
            {
                _stream.Position = _stream.Length - 1;
                endsWithNewline = _stream.ReadByte() == '\n';
            }
            _stream.Position = _stream.Length;
            if (!endsWithNewline) { _writer.Write('\n'); _writer.Flush(); }
        }

        private static JournalEntry? TryParse(string line)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("key", out JsonElement key) || key.ValueKind != JsonValueKind.String) return null;
                if (!r.TryGetProperty("state", out JsonElement state) || !Enum.TryParse(state.GetString(), true, out JournalState parsed)) return null;
                return new JournalEntry
                {
                    Key = key.GetString()!,
                    State = parsed,
                    WorkflowId = Str(r, "workflowId"),
                    MessageId = Str(r, "messageId"),
                    IdempotencyKey = Str(r, "idempotencyKey"),
                    ErrorId = Str(r, "errorId"),
                    At = r.TryGetProperty("at", out JsonElement at) && at.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(at.GetString(), out DateTimeOffset t) ? t : DateTimeOffset.MinValue,
                };
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        public JournalEntry? Find(string key)
        {
            lock (_gate) return _entries.TryGetValue(key, out JournalEntry? e) ? e : null;
        }

        /// <summary>The re-run rule: accepted rows are not sent again, unknown ones only on request.</summary>
        public JournalDecision Decide(string key, bool retryUnknown)
        {
            JournalEntry? entry = Find(key);
            if (entry is null || entry.State == JournalState.Failed) return JournalDecision.Submit;
            if (entry.State == JournalState.Accepted) return JournalDecision.AlreadyAccepted;
            return retryUnknown ? JournalDecision.RetryWithSameKey : JournalDecision.OutcomeUnknown;
        }

        public void RecordSubmitting(string key, string workflowId, string idempotencyKey) =>
            Append(new JournalEntry { Key = key, State = JournalState.Submitting, WorkflowId = workflowId, IdempotencyKey = idempotencyKey });

        public void RecordAccepted(string key, RunAccepted accepted, string idempotencyKey) =>
            Append(new JournalEntry { Key = key, State = JournalState.Accepted, WorkflowId = accepted.WorkflowId, MessageId = accepted.MessageId, IdempotencyKey = idempotencyKey });

        public void RecordFailed(string key, string workflowId, string idempotencyKey, string errorId) =>
            Append(new JournalEntry { Key = key, State = JournalState.Failed, WorkflowId = workflowId, IdempotencyKey = idempotencyKey, ErrorId = errorId });

        public void RecordUnknown(string key, string workflowId, string idempotencyKey, string errorId) =>
            Append(new JournalEntry { Key = key, State = JournalState.Unknown, WorkflowId = workflowId, IdempotencyKey = idempotencyKey, ErrorId = errorId });

        private void Append(JournalEntry entry)
        {
            entry.At = DateTimeOffset.UtcNow;
            string line = Serialize(entry);
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(RunJournal));
                _writer.Write(line);
                _writer.Write('\n');
                // Flushed per record: after a crash the file holds every state change made so far.
                _writer.Flush();
                // The index keeps what the file held when opened (what a re-run decides on); rows first seen
                // in this batch are not kept, so memory does not grow with the batch (duplicates within a
                // batch are caught by the submitter).
                if (_entries.ContainsKey(entry.Key)) _entries[entry.Key] = entry;
            }
        }

        private static string Serialize(JournalEntry e)
        {
            using var ms = new MemoryStream(256);
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteString("key", e.Key);
                w.WriteString("state", e.State.ToString());
                if (e.WorkflowId != null) w.WriteString("workflowId", e.WorkflowId);
                if (e.MessageId != null) w.WriteString("messageId", e.MessageId);
                if (e.IdempotencyKey != null) w.WriteString("idempotencyKey", e.IdempotencyKey);
                if (e.ErrorId != null) w.WriteString("errorId", e.ErrorId);
                w.WriteString("at", e.At.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                _writer.Flush();
                _writer.Dispose();
                _stream.Dispose();
                _lock.Dispose();
            }
        }
    }
}
