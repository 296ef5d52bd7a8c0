using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Models;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// What a receiver knows of the runs it has heard about: the updates seen, keyed on (message_id, status) as spec
    /// §6.2 advises (the signature has no timestamp or nonce, so a replayed or retried delivery verifies again), each
    /// run's final status (after which nothing of that run is acted on: updates never go backwards), and the updates
    /// answered 200 and not yet written. Memory is bounded: at most <see cref="MaxRememberedRuns"/> runs are remembered,
    /// the oldest forgotten first (never one with an update still to write); an update of a run forgotten counts as new.
    /// With a file (-StatePath) the same is kept on disk: an update is recorded with its body before its 200 is sent
    /// and marked written once the pipeline has taken it, so a receiver killed at any moment and started again with
    /// the file writes every acknowledged update that was not written, once; the file is compacted as it grows, so
    /// it holds what the memory holds and a restart reads it in bounded time.
    /// </summary>
    public sealed class UpdateLedger : IDisposable
    {
        public const int DefaultMaxRememberedRuns = 100_000;
        /// <summary>A file with this many lines beyond twice what the memory holds is compacted when it is opened.</summary>
        private const long CompactionSlack = 1_000;
        /// <summary>Bytes beyond twice what the file held after its last compaction before it is compacted again.</summary>
        internal const long DefaultCompactionSlackBytes = 1024 * 1024;
        private readonly long _compactionSlackBytes;

        public enum ClaimResult
        {
            /// <summary>First seen: act on it.</summary>
            New,
            /// <summary>This (message_id, status) was seen before.</summary>
            Duplicate,
            /// <summary>The run's final status was seen before, and this is another one: stale, never acted on.</summary>
            AfterFinal,
        }

        private sealed class Run
        {
            public Run(string id, long order)
            {
                Id = id;
                Order = order;
            }

            public string Id { get; }
            public long Order { get; set; }
            /// <summary>The terminal status seen (normalized), if any.</summary>
            public string? Final { get; set; }
            public bool FinalWritten { get; set; }
            /// <summary>Interim statuses seen (normalized), and those of them written.</summary>
            public List<string>? Interim { get; set; }
            public List<string>? InterimWritten { get; set; }
            /// <summary>Updates of this run answered 200 and not yet written or dropped.</summary>
            public int Pending { get; set; }
        }

        /// <summary>An update answered 200 and not yet written: what a restarted receiver writes.</summary>
        public sealed class PendingUpdate
        {
            internal PendingUpdate(string messageId, string status, string body, long order)
            {
                MessageId = messageId;
                Status = status;
                Body = body;
                Order = order;
            }

            public string MessageId { get; }
            public string Status { get; }
            /// <summary>The verified body as it was received.</summary>
            public string Body { get; }
            internal long Order { get; }
        }

        private readonly object _gate = new object();
        private readonly Dictionary<string, Run> _runs = new Dictionary<string, Run>(StringComparer.Ordinal);
        /// <summary>Runs in the order they were first seen, for forgetting the oldest (entries of runs forgotten since are skipped).</summary>
        private readonly Queue<KeyValuePair<string, long>> _age = new Queue<KeyValuePair<string, long>>();
        private readonly Dictionary<string, PendingUpdate> _pending = new Dictionary<string, PendingUpdate>(StringComparer.Ordinal);
        private readonly WebhookStateFile? _file;
        private long _order;
        private bool _loading;

        private UpdateLedger(int maxRememberedRuns, WebhookStateFile? file, long compactionSlackBytes = DefaultCompactionSlackBytes)
        {
            if (maxRememberedRuns < 1) throw new ArgumentOutOfRangeException(nameof(maxRememberedRuns), "At least one run must be remembered.");
            MaxRememberedRuns = maxRememberedRuns;
            _file = file;
            _compactionSlackBytes = compactionSlackBytes;
        }

        /// <summary>The file, or null when the ledger lives in memory only.</summary>
        public string? Path => _file?.Path;
        public int MaxRememberedRuns { get; }
        /// <summary>Runs the file recorded when it was opened.</summary>
        public int LoadedCount { get; private set; }
        /// <summary>Lines of the file that could not be read (torn by a crash); they are ignored.</summary>
        public int UnreadableLines => _file?.UnreadableLines ?? 0;
        /// <summary>Runs remembered now.</summary>
        public int RememberedRuns { get { lock (_gate) return _runs.Count; } }
        /// <summary>Runs forgotten to keep within <see cref="MaxRememberedRuns"/>.</summary>
        public long ForgottenRuns { get; private set; }
        /// <summary>Updates answered 200 and not yet written (or dropped): the backlog between the answer and the pipeline.</summary>
        public int Unwritten { get { lock (_gate) return _pending.Count; } }
        /// <summary>Lines and bytes the file holds now (0 without a file).</summary>
        public long FileLines => _file?.Lines ?? 0;
        public long FileBytes => _file?.Bytes ?? 0;
        /// <summary>A compaction of the file is under way (or asked for).</summary>
        public bool Compacting => _file?.CompactionPending ?? false;
        /// <summary>Compactions of the file so far, and the reason the last failed one failed (they are tried again later).</summary>
        public int Compactions => _file?.Compactions ?? 0;
        public string? LastCompactionFailure => _file?.LastCompactionFailure;

        public static UpdateLedger InMemory(int maxRememberedRuns = DefaultMaxRememberedRuns) => new UpdateLedger(maxRememberedRuns, null);

        /// <summary>Opens (or creates) the file and reads what it records; the file is held until disposed.</summary>
        public static UpdateLedger Open(string path, int maxRememberedRuns = DefaultMaxRememberedRuns) => Open(path, maxRememberedRuns, DefaultCompactionSlackBytes);

        /// <param name="paths">The longest paths this process can write (tests give .NET Framework's).</param>
        internal static UpdateLedger Open(string path, PathLimit paths) => Open(path, DefaultMaxRememberedRuns, DefaultCompactionSlackBytes, paths);

        /// <param name="compactionSlackBytes">What the file may grow beyond twice its compacted size (tests make it small).</param>
        internal static UpdateLedger Open(string path, int maxRememberedRuns, long compactionSlackBytes) =>
            Open(path, maxRememberedRuns, compactionSlackBytes, PathLimit.ForThisProcess());

        private static UpdateLedger Open(string path, int maxRememberedRuns, long compactionSlackBytes, PathLimit paths)
        {
            UpdateLedger? ledger = null;
            var loading = new UpdateLedger(maxRememberedRuns, null) { _loading = true };
            WebhookStateFile file = WebhookStateFile.Open(path, loading.Apply, paths);
            try
            {
                ledger = new UpdateLedger(maxRememberedRuns, file, compactionSlackBytes);
                ledger.TakeOver(loading);
                // A file much larger than what it says (written before compaction existed, or by a receiver with a
                // larger limit) is compacted now, so what the next start reads stays bounded.
                if (file.Lines >= 2 * (ledger._runs.Count + (long)ledger._pending.Count) + CompactionSlack) file.RequestCompaction(ledger.Snapshot);
                return ledger;
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        private void TakeOver(UpdateLedger loaded)
        {
            foreach (KeyValuePair<string, long> entry in loaded._age)
                if (loaded._runs.TryGetValue(entry.Key, out Run? run) && run.Order == entry.Value) { _runs[run.Id] = run; _age.Enqueue(entry); }
            foreach (KeyValuePair<string, PendingUpdate> p in loaded._pending) _pending[p.Key] = p.Value;
            _order = loaded._order;
            ForgottenRuns = loaded.ForgottenRuns;
            LoadedCount = _runs.Count;
        }

        /// <summary>One line of the file, as it was opened; false for a line that cannot be read.</summary>
        private bool Apply(string text)
        {
            if (!WebhookStateLine.TryParse(text, out WebhookStateLine line)) return false;
            string id = Normalize(line.MessageId), status = NormalizeStatus(line.Status);
            Run run = Find(id, create: true)!;
            bool terminal = RunStates.Parse(status).IsTerminal();
            switch (line.Kind)
            {
                case WebhookStateLineKind.Received:
                    if (run.FinalWritten || (run.Final != null && run.Final != status)) break; // overtaken: nothing to write
                    See(run, status, terminal);
                    string key = Key(id, status);
                    if (!_pending.ContainsKey(key))
                    {
                        _pending[key] = new PendingUpdate(line.MessageId, line.Status, line.Body ?? "{}", ++_order);
                        run.Pending++;
                    }
                    break;
                case WebhookStateLineKind.Written:
                    Written(run, status, terminal);
                    break;
                default:
                    See(run, status, terminal);
                    Unpend(run, status);
                    break;
            }
            return true;
        }

        /// <summary>First time (message_id, status) is seen: <see cref="ClaimResult.New"/>; it is remembered from now on.</summary>
        public ClaimResult Claim(string messageId, string status)
        {
            string id = Normalize(messageId), s = NormalizeStatus(status);
            bool terminal = RunStates.Parse(s).IsTerminal();
            lock (_gate)
            {
                Run run = Find(id, create: true)!;
                if (run.Final != null) return run.Final == s ? ClaimResult.Duplicate : ClaimResult.AfterFinal;
                if (!terminal && run.Interim?.Contains(s) == true) return ClaimResult.Duplicate;
                See(run, s, terminal);
                return ClaimResult.New;
            }
        }

        /// <summary>True when (message_id, status) was seen before, without claiming it.</summary>
        public bool Seen(string messageId, string status)
        {
            string id = Normalize(messageId), s = NormalizeStatus(status);
            lock (_gate)
            {
                Run? run = Find(id, create: false);
                return run != null && (run.Final == s || run.Interim?.Contains(s) == true);
            }
        }

        /// <summary>True when the run's final update was written (by this receiver, or an earlier one with the same file).</summary>
        public bool FinishedBefore(string messageId)
        {
            lock (_gate) return Find(Normalize(messageId), create: false)?.FinalWritten == true;
        }

        /// <summary>
        /// An update about to be answered 200: kept as unwritten and, with a file, recorded with its body. The task
        /// completes once the record is on the disk (at once without a file); only then may the 200 go out.
        /// </summary>
        public Task RecordReceived(RunSnapshot update)
        {
            string id = Normalize(update.MessageId), s = NormalizeStatus(update.Status);
            lock (_gate)
            {
                Run run = Find(id, create: true)!;
                string key = Key(id, s);
                if (!_pending.ContainsKey(key))
                {
                    _pending[key] = new PendingUpdate(update.MessageId.Trim(), update.Status, update.RawJson, ++_order);
                    run.Pending++;
                }
                if (_file is null) return Task.CompletedTask;
                Task durable = _file.AppendDurable(new WebhookStateLine(WebhookStateLineKind.Received, update.MessageId.Trim(), update.Status, update.RawJson));
                CompactIfDue();
                return durable;
            }
        }

        /// <summary>
        /// The update was written (WriteObject returned): no restart writes it again. The line reaches the operating
        /// system before this returns (a killed process keeps it) and the disk moments later, off this thread.
        /// </summary>
        public void RecordWritten(string messageId, string status)
        {
            string id = Normalize(messageId), s = NormalizeStatus(status);
            lock (_gate)
            {
                Run run = Find(id, create: true)!;
                Written(run, s, RunStates.Parse(s).IsTerminal());
                if (_file is null) return;
                _file.Append(new WebhookStateLine(WebhookStateLineKind.Written, messageId.Trim(), status));
                CompactIfDue();
            }
        }

        /// <summary>An update answered 200 that turned out to need no writing (a run not waited for, an update overtaken).</summary>
        public void RecordDropped(string messageId, string status)
        {
            string id = Normalize(messageId), s = NormalizeStatus(status);
            lock (_gate)
            {
                Run? run = Find(id, create: false);
                if (run is null || !Unpend(run, s) || _file is null) return;
                _file.Append(new WebhookStateLine(WebhookStateLineKind.Dropped, messageId.Trim(), status));
                CompactIfDue();
            }
        }

        /// <summary>The updates answered 200 by an earlier receiver with this file and never written, in the order they came.</summary>
        public IReadOnlyList<PendingUpdate> PendingUpdates()
        {
            lock (_gate) return _pending.Values.OrderBy(p => p.Order).ToList();
        }

        private void See(Run run, string status, bool terminal)
        {
            if (terminal) run.Final ??= status;
            else if (run.Interim is null) run.Interim = new List<string> { status };
            else if (!run.Interim.Contains(status)) run.Interim.Add(status);
        }

        private void Written(Run run, string status, bool terminal)
        {
            Unpend(run, status);
            if (terminal)
            {
                // The status written is the run's final one; anything still pending of the run was overtaken by it.
                run.Final = status;
                run.FinalWritten = true;
                if (run.Pending > 0)
                    foreach (string key in _pending.Where(p => Normalize(p.Value.MessageId) == run.Id).Select(p => p.Key).ToList()) { _pending.Remove(key); run.Pending--; }
            }
            else
            {
                See(run, status, terminal: false);
                if (run.InterimWritten is null) run.InterimWritten = new List<string> { status };
                else if (!run.InterimWritten.Contains(status)) run.InterimWritten.Add(status);
            }
        }

        private bool Unpend(Run run, string status)
        {
            if (!_pending.Remove(Key(run.Id, status))) return false;
            run.Pending--;
            return true;
        }

        /// <summary>The run, created (and the oldest run forgotten past the limit) when asked to.</summary>
        private Run? Find(string id, bool create)
        {
            if (_runs.TryGetValue(id, out Run? run) || !create) return run;
            run = new Run(id, ++_order);
            _runs[id] = run;
            _age.Enqueue(new KeyValuePair<string, long>(id, run.Order));
            if (_runs.Count > MaxRememberedRuns) ForgetOldest(run);
            return run;
        }

        /// <param name="created">The run just created, for an update being claimed or recorded now: never the one forgotten.</param>
        private void ForgetOldest(Run created)
        {
            // A run with an update still to write is never forgotten: it goes to the back (the backlog bounds them). Nor is
            // the run being created, which the pending runs sent to the back would otherwise leave first in line: its update,
            // about to be acknowledged, would count as new again and be left out of the next compaction.
            for (int tries = _age.Count; _runs.Count > MaxRememberedRuns && tries > 0; tries--)
            {
                KeyValuePair<string, long> oldest = _age.Dequeue();
                if (!_runs.TryGetValue(oldest.Key, out Run? run) || run.Order != oldest.Value) continue;
                if (run.Pending > 0 || ReferenceEquals(run, created))
                {
                    run.Order = ++_order;
                    _age.Enqueue(new KeyValuePair<string, long>(run.Id, run.Order));
                    continue;
                }
                _runs.Remove(oldest.Key);
                ForgottenRuns++;
            }
        }

        /// <summary>
        /// Compacts the file once it holds twice what it held after its last compaction (plus a slack): the file's size
        /// stays within about twice what the memory holds, and compacting costs a constant share of what is appended.
        /// </summary>
        private void CompactIfDue()
        {
            if (_file is null || _loading) return;
            if (_file.Bytes >= 2 * _file.CompactedBytes + _compactionSlackBytes && !_file.CompactionPending) _file.RequestCompaction(Snapshot);
        }

        /// <summary>What the memory holds, as the lines a compacted file has: taken with the file's mark, under the lock appends take too.</summary>
        private WebhookStateFile.Snapshot Snapshot()
        {
            lock (_gate)
            {
                var lines = new List<WebhookStateLine>(_runs.Count + _pending.Count);
                var pendingByRun = new Dictionary<string, List<PendingUpdate>>(StringComparer.Ordinal);
                foreach (PendingUpdate p in _pending.Values.OrderBy(p => p.Order))
                {
                    string id = Normalize(p.MessageId);
                    if (!pendingByRun.TryGetValue(id, out List<PendingUpdate>? list)) pendingByRun[id] = list = new List<PendingUpdate>();
                    list.Add(p);
                }
                foreach (KeyValuePair<string, long> entry in _age)
                {
                    if (!_runs.TryGetValue(entry.Key, out Run? run) || run.Order != entry.Value) continue;
                    if (run.FinalWritten)
                    {
                        lines.Add(new WebhookStateLine(WebhookStateLineKind.Written, run.Id, run.Final!));
                        continue;
                    }
                    if (run.InterimWritten != null)
                        foreach (string s in run.InterimWritten) lines.Add(new WebhookStateLine(WebhookStateLineKind.Written, run.Id, s));
                    if (pendingByRun.TryGetValue(run.Id, out List<PendingUpdate>? pending))
                        foreach (PendingUpdate p in pending) lines.Add(new WebhookStateLine(WebhookStateLineKind.Received, p.MessageId, p.Status, p.Body));
                }
                return new WebhookStateFile.Snapshot(_file!.Mark(), lines);
            }
        }

        private static string Normalize(string text) => text.Trim().ToLowerInvariant();

        /// <summary>The usual statuses share one string each, so a run remembered costs no string of its own for them.</summary>
        private static string NormalizeStatus(string status)
        {
            string s = Normalize(status);
            foreach (string known in KnownStatuses) if (s == known) return known;
            return s;
        }

        private static readonly string[] KnownStatuses = { "processing", "success", "failed", "queued", "completed", "timeout", "cancelled", "canceled" };

        private static string Key(string id, string status) => id + "\n" + status;

        public void Dispose() => _file?.Dispose();
    }
}
