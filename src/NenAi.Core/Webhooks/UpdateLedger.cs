using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Models;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// The webhook updates already seen, keyed on (message_id, status) as spec §6.2 advises: the signature has no
    /// timestamp or nonce, so a replayed or retried delivery verifies again. Seen pairs live in memory; with a file,
    /// the pairs acted on are appended (and flushed to the device) as JSON Lines, so a restarted receiver does not
    /// act twice on a replay. One receiver at a time may hold a file; torn lines (a crash mid-write) are skipped.
    /// </summary>
    public sealed class UpdateLedger : IDisposable
    {
        private readonly object _gate = new object();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>Runs whose final status the file records: acted on by an earlier receiver.</summary>
        private readonly HashSet<string> _finishedBefore = new HashSet<string>(StringComparer.Ordinal);
        private readonly FileStream? _stream;
        private readonly FileStream? _lock;

        private UpdateLedger(string? path, FileStream? stream, FileStream? lockFile)
        {
            Path = path;
            _stream = stream;
            _lock = lockFile;
        }

        /// <summary>The file, or null when the ledger lives in memory only.</summary>
        public string? Path { get; }
        /// <summary>Updates the file recorded when it was opened.</summary>
        public int LoadedCount { get; private set; }
        /// <summary>Lines of the file that could not be read (torn by a crash); they are ignored.</summary>
        public int UnreadableLines { get; private set; }

        public static UpdateLedger InMemory() => new UpdateLedger(null, null, null);

        /// <summary>Opens (or creates) the file and reads what it records; the file is held until disposed.</summary>
        public static UpdateLedger Open(string path) => Open(path, PathLimit.ForThisProcess());

        /// <param name="paths">The longest paths this process can write (tests give .NET Framework's).</param>
        internal static UpdateLedger Open(string path, PathLimit paths)
        {
            // Its length before .NET Framework's GetFullPath can throw PathTooLongException for it.
            string full = paths.FullPath(path, folder: false, $"the state file '{path}'");
            paths.Check(full + ".lock", folder: false, $"the state file '{full}' (and its .lock file)");
            if (Directory.Exists(full))
                throw Failed($"The state file '{full}' is a folder; give a file name, such as '{System.IO.Path.Combine(full, "webhooks.jsonl")}'.", null);
            FileStream? lockFile = null;
            string? folder = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(folder)) paths.CheckFolderToCreate(folder!, $"the folder of the state file '{full}'");
            try
            {
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                // A lock file held exclusively: FileShare is only advisory on Unix.
                try
                {
                    lockFile = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (IOException ex)
                {
                    throw new NenException(NenErrorIds.WebhookStateInUse, NenErrorCategory.ResourceUnavailable,
                        $"The state file '{full}' is in use by another receiver (one at a time per file). Stop it, or give this receiver its own -StatePath. ({ex.Message})", ex);
                }
                var ledger = new UpdateLedger(full, new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read), lockFile);
                try
                {
                    ledger.Load();
                }
                catch
                {
                    ledger._stream!.Dispose();
                    throw;
                }
                return ledger;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                lockFile?.Dispose();
                throw Failed($"The state file '{full}' cannot be opened ({ex.Message}).", ex);
            }
        }

        private void Load()
        {
            var reader = new StreamReader(_stream!, new UTF8Encoding(false), false, 64 * 1024, leaveOpen: true);
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                if (line.Length == 0) continue;
                if (!TryParse(line, out string id, out string status)) { UnreadableLines++; continue; }
                if (_seen.Add(Key(id, status))) LoadedCount++;
                if (RunStates.Parse(status).IsTerminal()) _finishedBefore.Add(Normalize(id));
            }
            // A torn last line (no newline) must not glue itself to the next record.
            if (_stream!.Length > 0)
            {
                _stream.Position = _stream.Length - 1;
                bool endsWithNewline = _stream.ReadByte() == '\n';
                _stream.Position = _stream.Length;
                if (!endsWithNewline) _stream.WriteByte((byte)'\n');
            }
        }

        /// <summary>True the first time (message_id, status) is seen, by this receiver or in the file; false for a repeat.</summary>
        public bool TryClaim(string messageId, string status)
        {
            lock (_gate) return _seen.Add(Key(messageId, status));
        }

        /// <summary>True when the file records a final status of this run: an earlier receiver acted on it.</summary>
        public bool FinishedBefore(string messageId)
        {
            lock (_gate) return _finishedBefore.Contains(Normalize(messageId));
        }

        /// <summary>Records that the update was acted on; on disk before this returns, when there is a file.</summary>
        public void Record(string messageId, string status)
        {
            lock (_gate)
            {
                _seen.Add(Key(messageId, status));
                if (_stream is null) return;
                byte[] line = Line(messageId, status, DateTimeOffset.UtcNow);
                try
                {
                    _stream.Write(line, 0, line.Length);
                    _stream.Flush(flushToDisk: true);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException || ex is ArgumentException || ex is NotSupportedException)
                {
                    throw Failed($"The state file '{Path}' could not be written ({ex.Message}); the receiver stops rather than risk acting twice on a replay.", ex);
                }
            }
        }

        private static string Normalize(string text) => text.Trim().ToLowerInvariant();

        private static string Key(string messageId, string status) => Normalize(messageId) + "\n" + Normalize(status);

        private static byte[] Line(string messageId, string status, DateTimeOffset at)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("message_id", messageId);
                w.WriteString("status", status);
                w.WriteString("at", at.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            return buffer.ToArray();
        }

        private static bool TryParse(string line, out string messageId, out string status)
        {
            messageId = status = string.Empty;
            try
            {
                using var doc = JsonDocument.Parse(line);
                JsonElement root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object ||
                    !root.TryGetProperty("message_id", out JsonElement id) || id.ValueKind != JsonValueKind.String ||
                    !root.TryGetProperty("status", out JsonElement st) || st.ValueKind != JsonValueKind.String) return false;
                messageId = id.GetString()!;
                status = st.GetString()!;
                return messageId.Trim().Length > 0;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private static NenException Failed(string message, Exception? inner) =>
            new NenException(NenErrorIds.WebhookStateWriteFailed, NenErrorCategory.WriteError, message, inner);

        public void Dispose()
        {
            lock (_gate)
            {
                try { _stream?.Dispose(); }
                catch (IOException) { }
                _lock?.Dispose();
            }
        }
    }
}
