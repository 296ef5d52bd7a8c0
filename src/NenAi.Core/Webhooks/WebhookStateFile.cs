using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Files;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// The -StatePath file: JSON Lines, appended by whoever records a line, one write to the operating system per line
    /// and no buffer of ours, so a process killed at any moment loses nothing it appended (the file cache keeps it).
    /// One flusher thread makes lines durable (fsync): at once, one fsync for every line appended meanwhile, for a line
    /// whose caller waits (<see cref="AppendDurable"/>, the update a 200 is about to acknowledge); within
    /// <see cref="LazyFlush"/> for the others. No caller holds a lock while the disk flushes. A thread of its own compacts
    /// the file when asked: the snapshot it is given into a new file (flushes go on meanwhile), then, with the appenders
    /// and the flusher held for that moment only, the lines appended since, and the new file replaces the old one.
    /// One receiver at a time holds a file (an exclusive lock file beside it).
    /// </summary>
    internal sealed class WebhookStateFile : IDisposable
    {
        private const string LockSuffix = ".lock";
        private const string CompactSuffix = ".compact";
        /// <summary>How long a line no caller waits for (a written mark) may stay in the file cache only.</summary>
        private static readonly TimeSpan LazyFlush = TimeSpan.FromMilliseconds(200);
        private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(30);

        /// <summary>Guards the stream, the counters and the waiters; held for a write to the operating system, never for a flush.</summary>
        private readonly object _append = new object();
        /// <summary>Wakes the flusher.</summary>
        private readonly object _signal = new object();
        /// <summary>Held for a flush, and for the moment a compacted file takes the old one's place: never both at once.</summary>
        private readonly object _flushing = new object();
        private readonly Queue<KeyValuePair<long, TaskCompletionSource<bool>>> _waiters = new Queue<KeyValuePair<long, TaskCompletionSource<bool>>>();
        private readonly FileStream _lockFile;
        private readonly Thread _flusher;
        private Thread? _compactor;
        private FileStream _stream;
        private long _appended, _durable, _lines, _compactedBytes;
        private NenException? _failure;
        private bool _disposed;
        // Guarded by _signal:
        private bool _urgent, _stop, _compacting;
        private Func<Snapshot>? _compaction;

        /// <summary>What a compaction writes: the lines that say what the memory holds, taken with <see cref="Mark"/> at the same moment.</summary>
        internal sealed class Snapshot
        {
            public Snapshot(long mark, List<WebhookStateLine> lines)
            {
                Mark = mark;
                Lines = lines;
            }

            public long Mark { get; }
            public List<WebhookStateLine> Lines { get; }
        }

        private WebhookStateFile(string path, FileStream stream, FileStream lockFile)
        {
            Path = path;
            _stream = stream;
            _lockFile = lockFile;
            _flusher = new Thread(RunFlusher) { IsBackground = true, Name = "NenAi webhook state flusher" };
        }

        public string Path { get; }
        /// <summary>Lines that could not be read when the file was opened (a line torn by a crash); they are ignored.</summary>
        public int UnreadableLines { get; private set; }
        /// <summary>Lines the file holds now.</summary>
        public long Lines { get { lock (_append) return _lines; } }
        /// <summary>Bytes the file holds now.</summary>
        public long Bytes { get { lock (_append) return _stream.Position; } }
        /// <summary>A compaction asked for has not finished yet.</summary>
        public bool CompactionPending { get { lock (_signal) return _compacting || _compaction != null; } }
        /// <summary>Bytes the file held when it was opened or last compacted (or when a compaction last failed).</summary>
        public long CompactedBytes { get { lock (_append) return _compactedBytes; } }
        /// <summary>Compactions done, and failed (a failed one leaves the file as it was; it is tried again later).</summary>
        public int Compactions { get; private set; }
        public int FailedCompactions { get; private set; }
        /// <summary>Why a compaction failed last, for -Verbose.</summary>
        public string? LastCompactionFailure { get; private set; }

        /// <summary>Opens (or creates) the file and hands every line to <paramref name="read"/> (false: unreadable); the file is held until disposed.</summary>
        /// <param name="paths">The longest paths this process can write (tests give .NET Framework's).</param>
        public static WebhookStateFile Open(string path, Func<string, bool> read, PathLimit paths)
        {
            // Its length before .NET Framework's GetFullPath can throw PathTooLongException for it; the .compact file
            // written beside it is the longest name it uses.
            string full = paths.FullPath(path, folder: false, $"the state file '{path}'");
            paths.Check(full + CompactSuffix, folder: false, $"the state file '{full}' (and its {CompactSuffix} and {LockSuffix} files)");
            if (Directory.Exists(full))
                throw Failed($"The state file '{full}' is a folder; give a file name, such as '{System.IO.Path.Combine(full, "webhooks.jsonl")}'.", null);
            string? folder = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(folder)) paths.CheckFolderToCreate(folder!, $"the folder of the state file '{full}'");
            FileStream? lockFile = null, stream = null;
            try
            {
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                // A lock file held exclusively: FileShare is only advisory on Unix. The operating system lets go of it
                // when the process ends however it ends, so a killed receiver's file opens again at once.
                try
                {
                    lockFile = new FileStream(full + LockSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (IOException ex)
                {
                    throw new NenException(NenErrorIds.WebhookStateInUse, NenErrorCategory.ResourceUnavailable,
                        $"The state file '{full}' is in use by another receiver (one at a time per file). Stop it, or give this receiver its own -StatePath. ({ex.Message})", ex);
                }
                // A compaction cut short by a crash: the file itself is whole (it is replaced only once the new one is).
                // Unless the crash came inside the replacement on Windows, after the old file left its name (1176/1177,
                // FileErrors.IsBriefLock): then the new one, whole and flushed, is the state.
                if (File.Exists(full + CompactSuffix))
                {
                    if (File.Exists(full)) File.Delete(full + CompactSuffix);
                    else File.Move(full + CompactSuffix, full);
                }
                stream = OpenFile(full, FileMode.OpenOrCreate, bufferSize: 1);
                var file = new WebhookStateFile(full, stream, lockFile);
                file.Load(read);
                file._flusher.Start();
                return file;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                stream?.Dispose();
                lockFile?.Dispose();
                throw Failed($"The state file '{full}' cannot be opened ({ex.Message}).", ex);
            }
            catch
            {
                stream?.Dispose();
                lockFile?.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The file may hold presigned links (in the bodies of updates not yet written): on Linux and macOS it is created
        /// readable by its owner only; on Windows it inherits its folder's permissions.
        /// </summary>
        private static FileStream OpenFile(string path, FileMode mode, int bufferSize)
        {
#if NET7_0_OR_GREATER
            if (!OperatingSystem.IsWindows())
                return new FileStream(path, new FileStreamOptions
                {
                    Mode = mode,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.Read,
                    BufferSize = bufferSize,
                    UnixCreateMode = mode == FileMode.Open ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
#endif
            return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.Read, bufferSize);
        }

        private void Load(Func<string, bool> read)
        {
            var reader = new StreamReader(_stream, new UTF8Encoding(false), false, 64 * 1024, leaveOpen: true);
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                if (line.Length == 0) continue;
                _lines++;
                if (!read(line)) UnreadableLines++;
            }
            // A torn last line (no newline) must not glue itself to the next record.
            if (_stream.Length > 0)
            {
                _stream.Position = _stream.Length - 1;
                bool endsWithNewline = _stream.ReadByte() == '\n';
                _stream.Position = _stream.Length;
                if (!endsWithNewline) _stream.WriteByte((byte)'\n');
            }
            _stream.Position = _stream.Length;
            _compactedBytes = _stream.Length;
        }

        /// <summary>Appends a line; it reaches the disk within <see cref="LazyFlush"/>. A failed write is NenWebhookStateWriteFailed.</summary>
        public void Append(WebhookStateLine line)
        {
            byte[] bytes = line.ToBytes(DateTimeOffset.UtcNow);
            try
            {
                lock (_append) WriteLocked(bytes);
            }
            finally
            {
                // After a failed write too: the lines written before it still reach the disk, and their waiters their answer.
                lock (_signal)
                {
                    _urgent = true;
                    Monitor.Pulse(_signal);
                }
            }
        }

        /// <summary>Appends a line; the task completes once it is on the disk (fails with NenWebhookStateWriteFailed when it cannot be).</summary>
        public Task AppendDurable(WebhookStateLine line)
        {
            byte[] bytes = line.ToBytes(DateTimeOffset.UtcNow);
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                lock (_append)
                {
                    WriteLocked(bytes);
                    _waiters.Enqueue(new KeyValuePair<long, TaskCompletionSource<bool>>(_appended, done));
                }
            }
            finally
            {
                lock (_signal)
                {
                    _urgent = true;
                    Monitor.Pulse(_signal);
                }
            }
            return done.Task;
        }

        private void WriteLocked(byte[] bytes)
        {
            if (_failure != null) throw _failure;
            if (_disposed) throw Failed($"The state file '{Path}' is closed.", null);
            try
            {
                _stream.Write(bytes, 0, bytes.Length);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException || ex is ArgumentException || ex is NotSupportedException)
            {
                throw _failure = CannotWrite(ex);
            }
            _appended++;
            _lines++;
        }

        /// <summary>The end of the file as it is now; called with the caller's own state locked, so a snapshot and its mark agree.</summary>
        public long Mark()
        {
            lock (_append) return _stream.Position;
        }

        /// <summary>
        /// Compacts the file with what <paramref name="snapshot"/> returns (taken when the compaction begins), on a thread
        /// of its own so flushes (and the 200s that wait for them) go on meanwhile; one at a time, the last request kept.
        /// </summary>
        public void RequestCompaction(Func<Snapshot> snapshot)
        {
            lock (_signal)
            {
                if (_stop) return;
                _compaction = snapshot;
                if (_compacting) return; // the running one takes it up when it is done
                _compacting = true;
                _compactor = new Thread(RunCompactions) { IsBackground = true, Name = "NenAi webhook state compactor" };
                _compactor.Start();
            }
        }

        private void RunCompactions()
        {
            while (true)
            {
                Func<Snapshot>? take;
                lock (_signal)
                {
                    take = _stop ? null : _compaction;
                    _compaction = null;
                    if (take is null)
                    {
                        _compacting = false;
                        return;
                    }
                }
                try { Compact(take); }
                catch (Exception ex)
                {
                    // An exception on a thread of its own would end the process (pwsh): a compaction that fails leaves the file as it was.
                    FailedCompactions++;
                    LastCompactionFailure = ex.Message;
                }
            }
        }

        private void RunFlusher()
        {
            while (true)
            {
                bool stop;
                lock (_signal)
                {
                    while (true)
                    {
                        bool pending = Volatile.Read(ref _appended) > Volatile.Read(ref _durable);
                        if (_stop || (pending && _urgent)) break;
                        if (pending)
                        {
                            if (!Monitor.Wait(_signal, LazyFlush)) break; // nobody waits: flush what came meanwhile
                        }
                        else Monitor.Wait(_signal);
                    }
                    _urgent = false;
                    stop = _stop;
                }
                FlushOnce();
                if (stop) return;
            }
        }

        private void FlushOnce()
        {
            long target;
            lock (_flushing)
            {
                FileStream stream;
                lock (_append)
                {
                    // (Also once a write has failed: what was written before it is flushed, and its waiters answered.)
                    if (_disposed || _appended == _durable) return;
                    target = _appended;
                    stream = _stream; // replaced only under _flushing (a compaction's swap)
                }
                try
                {
                    // Nothing is buffered (buffer size 1): this is the fsync (FlushFileBuffers) of the handle, and reads no state a Write changes.
                    stream.Flush(flushToDisk: true);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException || ex is NotSupportedException)
                {
                    FailAll(CannotWrite(ex));
                    return;
                }
            }
            Durable(target);
        }

        private void Durable(long upTo)
        {
            var done = new List<TaskCompletionSource<bool>>();
            lock (_append)
            {
                if (upTo > _durable) _durable = upTo;
                while (_waiters.Count > 0 && _waiters.Peek().Key <= _durable) done.Add(_waiters.Dequeue().Value);
            }
            foreach (TaskCompletionSource<bool> d in done) d.TrySetResult(true);
        }

        private void FailAll(NenException failure)
        {
            var waiting = new List<TaskCompletionSource<bool>>();
            lock (_append)
            {
                _failure ??= failure;
                failure = _failure;
                while (_waiters.Count > 0) waiting.Add(_waiters.Dequeue().Value);
            }
            foreach (TaskCompletionSource<bool> w in waiting) w.TrySetException(failure);
        }

        /// <summary>
        /// Writes the snapshot to a new file and makes it durable, with no lock held; then, the flusher held (so no line
        /// appended after this point is acknowledged until it is durable in the new file), the lines appended since the
        /// snapshot, read through a handle of its own while appenders go on, and made durable; then, the appenders held
        /// for a moment only (no flush: a thread-pool thread answering a delivery never waits for the disk), the last
        /// few lines, and the new file takes the old one's place; then the new file is flushed and its lines
        /// acknowledged. A failure leaves the old file as it was.
        /// </summary>
        private void Compact(Func<Snapshot> take)
        {
            string next = Path + CompactSuffix;
            FileStream? stream = null;
            try
            {
                Snapshot snapshot = take();
                stream = OpenFile(next, FileMode.Create, bufferSize: 64 * 1024);
                DateTimeOffset now = DateTimeOffset.UtcNow;
                foreach (WebhookStateLine line in snapshot.Lines)
                {
                    byte[] bytes = line.ToBytes(now);
                    stream.Write(bytes, 0, bytes.Length);
                }
                stream.Flush(flushToDisk: true);
                long durable;
                lock (_flushing)
                {
                    using var reader = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
                    long end;
                    lock (_append) end = _stream.Position;
                    long tail = CopyRange(reader, snapshot.Mark, end, stream);
                    stream.Flush(flushToDisk: true); // what may have been acknowledged is durable in the new file before it replaces the old
                    lock (_append)
                    {
                        if (_failure != null || _disposed) throw new IOException("the file stopped being written");
                        tail += CopyRange(reader, end, _stream.Position, stream); // not acknowledged yet: the flusher is held
                        reader.Dispose();
                        stream.Dispose();
                        stream = null;
                        _stream.Dispose();
                        try
                        {
                            // A scanner holding the file just written is waited out, as for every file the module replaces.
                            FileRetry.MoveIntoPlace(next, Path);
                        }
                        finally
                        {
                            // The new file when it replaced the old one, else the old one as it was.
                            ReopenLocked();
                        }
                        _lines = snapshot.Lines.Count + tail;
                        _compactedBytes = _stream.Length;
                        Compactions++;
                        durable = _appended;
                    }
                    _stream.Flush(flushToDisk: true); // the last few lines; only this thread and the flusher flush, and it is held
                }
                Durable(durable);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException || ex is ObjectDisposedException)
            {
                FailedCompactions++;
                LastCompactionFailure = ex.Message;
                lock (_append) _compactedBytes = _stream.Position; // tried again once the file has doubled
                stream?.Dispose();
                try { if (File.Exists(next)) File.Delete(next); }
                catch (Exception cleanup) when (cleanup is IOException || cleanup is UnauthorizedAccessException) { }
            }
        }

        /// <summary>Copies bytes [<paramref name="from"/>, <paramref name="to"/>) of the old file to <paramref name="into"/>; returns their line count.</summary>
        private static long CopyRange(FileStream reader, long from, long to, Stream into)
        {
            long lines = 0;
            reader.Position = from;
            byte[] buffer = new byte[64 * 1024];
            int n;
            while (reader.Position < to && (n = reader.Read(buffer, 0, (int)Math.Min(buffer.Length, to - reader.Position))) > 0)
            {
                into.Write(buffer, 0, n);
                for (int i = 0; i < n; i++) if (buffer[i] == (byte)'\n') lines++;
            }
            return lines;
        }

        private void ReopenLocked()
        {
            try
            {
                // Open, not create: a file gone from its name (a replacement that failed half-way) must stop the
                // receiver, not start an empty state that forgets what was acknowledged.
                _stream = OpenFile(Path, FileMode.Open, bufferSize: 1);
                _stream.Position = _stream.Length;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                _failure ??= CannotWrite(ex);
                throw;
            }
        }

        private NenException CannotWrite(Exception ex) =>
            Failed($"The state file '{Path}' could not be written ({ex.Message}); the receiver stops rather than acknowledge an update it could lose.", ex);

        internal static NenException Failed(string message, Exception? inner) =>
            new NenException(NenErrorIds.WebhookStateWriteFailed, NenErrorCategory.WriteError, message, inner);

        /// <summary>Flushes what was appended, then lets go of the file and its lock.</summary>
        public void Dispose()
        {
            lock (_signal)
            {
                if (_stop) return;
                _stop = true;
                Monitor.Pulse(_signal);
            }
            if (_flusher.IsAlive) _flusher.Join(DisposeWait);
            else FlushOnce();
            _compactor?.Join(DisposeWait);
            lock (_append)
            {
                _disposed = true;
                try { _stream.Dispose(); }
                catch (IOException) { }
            }
            FailAll(Failed($"The state file '{Path}' was closed before this update reached the disk.", null));
            _lockFile.Dispose();
        }
    }
}
