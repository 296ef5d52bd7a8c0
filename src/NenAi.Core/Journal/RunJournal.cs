using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Models;
using NenAi.Core.Rows;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// The batch's record: an append-only JSON Lines file. Its first line names the batch (a random id, from which
    /// every row's Idempotency-Key is derived, so a new journal is a new batch and a re-run with the same journal
    /// reuses its keys); then each row key → state/messageId. A row's "Submitting" line is on disk (fsync) before
    /// its request leaves, so a crash or power cut can never make a re-run start a row twice. Lines are written in
    /// groups, one fsync per group. The file is held exclusively while open.
    /// </summary>
    public sealed class RunJournal : IDisposable
    {
        private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(30);
        private readonly Dictionary<string, JournalEntry> _entries = new Dictionary<string, JournalEntry>(StringComparer.Ordinal);
        private readonly object _gate = new object();
        private readonly FileStream _stream;
        private readonly FileStream _lock;
        private List<PendingLine> _queue = new List<PendingLine>();
        // One thread of its own writes and fsyncs: a blocking fsync on a thread-pool thread starves the requests'
        // continuations on a 2-core machine (the pool grows slowly), and a thread per group would cost its start.
        private Thread? _writer;
        private NenException? _failure;
        private bool _disposed;

        private RunJournal(string path, FileStream stream, FileStream lockFile)
        {
            Path = path;
            _stream = stream;
            _lock = lockFile;
        }

        public string Path { get; }
        /// <summary>The batch this journal records; part of every row's Idempotency-Key.</summary>
        public string BatchId { get; private set; } = string.Empty;
        /// <summary>Lines that could not be read (a line cut short by a crash, say); they are ignored.</summary>
        public int UnreadableLines { get; private set; }
        /// <summary>Rows the journal knew when it was opened.</summary>
        public int Count { get { lock (_gate) return _entries.Count; } }
        /// <summary>Why the journal cannot be written any more, once a write has failed.</summary>
        public NenException? Failure { get { lock (_gate) return _failure; } }

        public static RunJournal Open(string path) => Open(path, PathLimit.ForThisProcess(), null);

        /// <param name="paths">The longest paths this process can write (the journal and its .lock).</param>
        /// <param name="beforeRetry">Called before each new attempt at the lock file (tests use it to let go of it).</param>
        internal static RunJournal Open(string path, PathLimit paths, Action<int>? beforeRetry)
        {
            // Its length before .NET Framework's GetFullPath can throw PathTooLongException for it.
            string full = paths.FullPath(path, folder: false, $"the journal '{path}'");
            if (Directory.Exists(full))
                throw new NenException(NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument, $"The journal '{full}' is a folder; give a file name, such as '{System.IO.Path.Combine(full, "batch.jsonl")}'.");
            paths.Check(full + LockSuffix, folder: false, $"the journal '{full}' (and its {LockSuffix} file)");
            FileStream lockFile, stream;
            string? dir = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) paths.CheckFolderToCreate(dir!, $"the folder of the journal '{full}'");
            try
            {
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                throw CannotOpen(full, ex);
            }
            lockFile = TakeLock(full, beforeRetry);
            try
            {
                stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                lockFile.Dispose();
                throw CannotOpen(full, ex);
            }
            var journal = new RunJournal(full, stream, lockFile);
            try
            {
                journal.Load();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException)
            {
                // A full disk (or a file-size limit) while writing the batch's first line.
                journal.Dispose();
                throw CannotOpen(full, ex);
            }
            catch
            {
                journal.Dispose();
                throw;
            }
            return journal;
        }

        private const string LockSuffix = ".lock";

        /// <summary>
        /// Takes the journal's lock file: an exclusive lock file (FileShare is only advisory on Unix for shared opens),
        /// so the journal itself stays readable by others while the batch runs. Taken first, so failing to take it
        /// because another process holds it means another batch does (<see cref="NenErrorIds.JournalInUse"/>). Access
        /// denied is what Windows answers while the previous batch's lock file is still being deleted (a scanner
        /// holds it a moment after that batch closed it): tried again for a few seconds; if it stays refused, it is in
        /// use when the journal itself can be written, and the journal cannot be opened when it cannot. Anything else (a
        /// read-only file system, a full disk) means the journal cannot be written (<see cref="NenErrorIds.JournalWriteFailed"/>).
        /// </summary>
        private static FileStream TakeLock(string full, Action<int>? beforeRetry)
        {
            string lockPath = full + LockSuffix;
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (Exception ex) when (FileErrors.IsSharingViolation(ex))
                {
                    throw InUse(full, ex);
                }
                catch (UnauthorizedAccessException ex)
                {
                    if (attempt < LockAttempts)
                    {
                        beforeRetry?.Invoke(attempt);
                        Thread.Sleep(LockRetryDelay);
                        continue;
                    }
                    if (JournalIsWritable(full)) throw InUse(full, ex);
                    throw CannotOpen(full, ex);
                }
                catch (Exception ex) when (ex is IOException || ex is NotSupportedException || ex is ArgumentException)
                {
                    throw CannotOpen(full, ex);
                }
            }
        }

        private const int LockAttempts = 20;
        private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(150);

        /// <summary>The journal exists and this account may write it (so a refused lock is not a matter of permissions).</summary>
        private static bool JournalIsWritable(string full)
        {
            try
            {
                using (new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)) return true;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return false; // missing, not ours to write, or held

            }
        }

        /// <summary>Why the journal cannot be written, in the user's terms: a file where its folder must be, or the system's reason (about the journal, not its lock file).</summary>
        private static NenException CannotOpen(string full, Exception ex)
        {
            string? file = Files.FolderCheck.FileInTheWay(System.IO.Path.GetDirectoryName(full) ?? full);
            string reason = file != null ? $"'{file}' is a file, where a folder must be" : ex.Message.Replace(full + LockSuffix, full);
            return new NenException(NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError, $"The journal '{full}' cannot be opened for writing ({reason}). Nothing was sent.", ex);
        }

        private static NenException InUse(string full, Exception ex) =>
            new NenException(NenErrorIds.JournalInUse, NenErrorCategory.ResourceUnavailable,
                $"The journal '{full}' is in use by another batch (one command at a time per journal). Wait for it, or give this batch its own -JournalPath. ({ex.Message})", ex);

        private void Load()
        {
            _stream.Position = 0;
            var reader = new StreamReader(_stream, Encoding.UTF8, false, 64 * 1024, leaveOpen: true);
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                if (line.Length == 0) continue;
                JournalLine parsed = JournalLine.Parse(line);
                if (!parsed.IsReadable) UnreadableLines++;
                else if (parsed.BatchId != null) { if (BatchId.Length == 0) BatchId = parsed.BatchId; }
                else if (parsed.Entry != null) _entries[parsed.Entry.Key] = parsed.Entry;
            }
            // A torn last line (no newline) must not glue itself to the next record.
            bool endsWithNewline = true;
            if (_stream.Length > 0)
            {
                _stream.Position = _stream.Length - 1;
                endsWithNewline = _stream.ReadByte() == '\n';
            }
            _stream.Position = _stream.Length;
            var start = new StringBuilder();
            if (!endsWithNewline) start.Append('\n');
            if (BatchId.Length == 0)
            {
                // A new journal, or one written before batches had ids: this command starts the batch.
                BatchId = Guid.NewGuid().ToString("N");
                start.Append(JournalLine.Header(BatchId, DateTimeOffset.UtcNow)).Append('\n');
            }
            if (start.Length > 0)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(start.ToString());
                _stream.Write(bytes, 0, bytes.Length);
                _stream.Flush(flushToDisk: true);
            }
        }

        public JournalEntry? Find(string key)
        {
            lock (_gate) return _entries.TryGetValue(key, out JournalEntry? e) ? e : null;
        }

        /// <summary>
        /// The re-run rule: accepted rows are not sent again, unknown ones only on request, refused ones are sent again
        /// (fixed, or as they are). A row the journal has a fingerprint for (<see cref="RowFingerprint"/>) whose values
        /// now differ is neither taken for the run it started (accepted) nor resent with that request's
        /// Idempotency-Key (unknown, with -RetryUnknown): <see cref="JournalDecision.ChangedSinceSent"/>.
        /// </summary>
        /// <param name="fingerprint">The row's fingerprint now; null: not compared.</param>
        public JournalDecision Decide(string key, bool retryUnknown, string? fingerprint = null)
        {
            JournalEntry? entry = Find(key);
            if (entry is null || entry.State == JournalState.Failed) return JournalDecision.Submit;
            if (entry.State == JournalState.Accepted)
                return RowFingerprint.Compare(entry.Fingerprint, fingerprint) is null ? JournalDecision.AlreadyAccepted : JournalDecision.ChangedSinceSent;
            if (!retryUnknown) return JournalDecision.OutcomeUnknown;
            return RowFingerprint.Compare(entry.Fingerprint, fingerprint) is null ? JournalDecision.RetryWithSameKey : JournalDecision.ChangedSinceSent;
        }

        // Each record carries the row's number in the input (row > 0), so a run listed from the journal has a readable
        // RowKey ("row 3") even when its key is a row hash.

        /// <summary>Completes once the line is on disk: only then may the row's request leave.</summary>
        // Each also carries the fingerprint of the values sent (null: none), which the next re-run compares.

        public Task RecordSubmittingAsync(string key, string workflowId, string idempotencyKey, int row = 0, string? fingerprint = null) =>
            Append(new JournalEntry { Key = key, State = JournalState.Submitting, WorkflowId = workflowId, IdempotencyKey = idempotencyKey, Row = row, Fingerprint = fingerprint });

        public Task RecordAcceptedAsync(string key, RunAccepted accepted, string idempotencyKey, int row = 0, string? fingerprint = null) =>
            Append(new JournalEntry { Key = key, State = JournalState.Accepted, WorkflowId = accepted.WorkflowId, MessageId = accepted.MessageId, IdempotencyKey = idempotencyKey, Row = row, Fingerprint = fingerprint });

        public Task RecordFailedAsync(string key, string workflowId, string idempotencyKey, string errorId, int row = 0, string? fingerprint = null) =>
            Append(new JournalEntry { Key = key, State = JournalState.Failed, WorkflowId = workflowId, IdempotencyKey = idempotencyKey, ErrorId = errorId, Row = row, Fingerprint = fingerprint });

        public Task RecordUnknownAsync(string key, string workflowId, string idempotencyKey, string errorId, int row = 0, string? fingerprint = null) =>
            Append(new JournalEntry { Key = key, State = JournalState.Unknown, WorkflowId = workflowId, IdempotencyKey = idempotencyKey, ErrorId = errorId, Row = row, Fingerprint = fingerprint });

        /// <summary>Queues a line; the returned task completes when it is on disk, or fails with the write error.</summary>
        private Task Append(JournalEntry entry)
        {
            entry.At = DateTimeOffset.UtcNow;
            var pending = new PendingLine(Encoding.UTF8.GetBytes(JournalLine.Serialize(entry) + "\n"));
            lock (_gate)
            {
                if (_failure != null) return Task.FromException(_failure);
                if (_disposed) return Task.FromException(new ObjectDisposedException(nameof(RunJournal)));
                _queue.Add(pending);
                // The index keeps what the file held when opened (what a re-run decides on); rows first seen
                // in this batch are not kept, so memory does not grow with the batch (duplicates within a
                // batch are caught by the submitter).
                if (_entries.ContainsKey(entry.Key)) _entries[entry.Key] = entry;
                if (_writer is null)
                {
                    _writer = new Thread(WriteQueued) { IsBackground = true, Name = "NenAi journal writer" };
                    _writer.Start();
                }
                else
                {
                    Monitor.Pulse(_gate);
                }
            }
            return pending.Done.Task;
        }

        /// <summary>Writes whatever is queued, one fsync per group, until the journal is disposed and drained.</summary>
        private void WriteQueued()
        {
            while (true)
            {
                List<PendingLine> group;
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_disposed) Monitor.Wait(_gate);
                    if (_queue.Count == 0) return;
                    group = _queue;
                    _queue = new List<PendingLine>();
                }
                try
                {
                    foreach (PendingLine line in group) _stream.Write(line.Bytes, 0, line.Bytes.Length);
                    _stream.Flush(flushToDisk: true);
                }
                catch (Exception ex)
                {
                    // Whatever failed (a full disk is IOException, a file-size limit ArgumentOutOfRangeException, a
                    // vanished share anything): every waiting and later line fails with it; nothing waits for ever.
                    var failure = new NenException(NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError,
                        $"The journal '{Path}' could not be written ({ex.Message}).", ex);
                    List<PendingLine> rest;
                    lock (_gate)
                    {
                        _failure = failure;
                        rest = _queue;
                        _queue = new List<PendingLine>();
                    }
                    foreach (PendingLine line in group) line.Done.TrySetException(failure);
                    foreach (PendingLine line in rest) line.Done.TrySetException(failure);
                    return;
                }
                foreach (PendingLine line in group) line.Done.TrySetResult(true);
            }
        }

        public void Dispose()
        {
            Thread? writer;
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                writer = _writer;
                Monitor.Pulse(_gate);
            }
            // What was queued reaches the disk (or fails) before the file is let go.
            writer?.Join(DisposeWait);
            try { _stream.Dispose(); }
            catch (IOException) { }
            _lock.Dispose();
        }

        private sealed class PendingLine
        {
            public PendingLine(byte[] bytes) => Bytes = bytes;
            public byte[] Bytes { get; }
            public TaskCompletionSource<bool> Done { get; } = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
