using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Rows;

namespace NenAi.Core.Batch
{
    /// <summary>
    /// Submits rows with bounded concurrency while the input keeps streaming. At most <see cref="MaxConcurrency"/>
    /// requests are on the wire at once, and behind them up to as many rows wait their turn: a request that ends
    /// hands its place straight to the next row, without waiting for the caller to take its outcome or read
    /// another row (a PowerShell pipeline thread reads one row at a time). A row holds its place in the batch from
    /// <see cref="SubmitAsync"/> until its outcome is taken, so at most 2 × <see cref="MaxConcurrency"/> rows live
    /// in memory however long the input is. Outcomes come out as requests complete; every row submitted gets
    /// exactly one. All rows share one <see cref="BatchCircuit"/>: a 429/503 pauses the batch; a storm past the retry
    /// budget, a few ambiguous failures in a row or refused credentials stop it sending (each row not sent gets a
    /// <see cref="NenNotSentException"/> outcome and is not journaled, so a re-run sends it). An answer that every
    /// row naming the same workflow would get (404 workflow_not_found) is asked once: later rows naming that workflow
    /// are refused with it without being sent. With <see cref="StopAtFirstFailure"/>, the first row that fails stops
    /// the sending too, before another request leaves.
    /// </summary>
    public sealed class BatchSubmitter : IDisposable
    {
        private const int UnjournaledShown = 20;
        private readonly NenApiClient _client;
        private readonly RunJournal? _journal;
        private readonly bool _retryUnknown;
        private readonly CompletionQueue<SubmissionOutcome> _queue;
        /// <summary>Places on the wire; taken before the journal's Submitting line, so a waiting row is never "submitting".</summary>
        private readonly SemaphoreSlim _wire;
        private int _onTheWire;
        // 128-bit digests rather than the key strings: 100,000 keys cost ~4 MB instead of ~25 MB.
        private readonly HashSet<(ulong, ulong)> _keysInBatch = new HashSet<(ulong, ulong)>();
        private readonly ConcurrentQueue<SubmissionOutcome> _unjournaled = new ConcurrentQueue<SubmissionOutcome>();
        private NenException? _journalFailure;
        /// <summary>Workflow ids the service said it does not know (404 workflow_not_found), with that answer and the row it was for.</summary>
        private readonly ConcurrentDictionary<string, (NenException Answer, string? Row)> _unknownWorkflows = new ConcurrentDictionary<string, (NenException Answer, string? Row)>(StringComparer.Ordinal);

        /// <param name="retryUnknown">Resubmit rows the journal marks "outcome unknown", with their original Idempotency-Key.</param>
        public BatchSubmitter(NenApiClient client, int maxConcurrency, RunJournal? journal = null, bool retryUnknown = false)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            if (maxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(maxConcurrency), "The concurrency must be at least 1.");
            MaxConcurrency = maxConcurrency;
            _wire = new SemaphoreSlim(maxConcurrency, maxConcurrency);
            _queue = new CompletionQueue<SubmissionOutcome>(2 * maxConcurrency);
            _journal = journal;
            _retryUnknown = retryUnknown;
            Circuit = BatchCircuit.For(client.Options);
        }

        /// <summary>Requests on the wire at once, at most.</summary>
        public int MaxConcurrency { get; }
        /// <summary>The batch's one circuit: pauses on 429/503, stops the batch when the service is not working.</summary>
        public BatchCircuit Circuit { get; }

        /// <summary>
        /// The first row that fails (or whose outcome is unknown) stops the sending at once, before its place on the
        /// wire goes to another row: the command stops at an error (-ErrorAction Stop). Places are then handed out in
        /// input order (<see cref="InOrderWindow"/>), so at most <see cref="MaxConcurrency"/> - 1 rows after the
        /// failed one can have left. Set it before the first row.
        /// </summary>
        public bool StopAtFirstFailure
        {
            get => _window != null;
            set => _window = value ? new InOrderWindow(MaxConcurrency) : null;
        }

        private InOrderWindow? _window;
        /// <summary>True when <see cref="SubmitAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _queue.HasFreeSlot;
        /// <summary>Rows submitted whose outcome has not been taken yet.</summary>
        public int Outstanding => _queue.Outstanding;
        /// <summary>Requests currently on the wire (rows waiting for a place are not counted).</summary>
        public int InFlight => Volatile.Read(ref _onTheWire);
        /// <summary>Set when the journal could not be written: the batch stopped sending (see <see cref="Unjournaled"/>).</summary>
        public NenException? JournalFailure => Volatile.Read(ref _journalFailure);
        /// <summary>Rows that may have started a run (accepted, or outcome unknown) whose journal record could not be written.</summary>
        public IReadOnlyCollection<SubmissionOutcome> Unjournaled => _unjournaled.ToArray();

        /// <summary>
        /// Takes a slot (waiting while all are held by untaken outcomes) and starts the request. Rows the
        /// journal or a duplicate key settles complete at once without any request.
        /// </summary>
        public async Task SubmitAsync(RunRequest request, CancellationToken cancellationToken = default)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            await _queue.EnterAsync(cancellationToken).ConfigureAwait(false);

            if (request.RowKey != null)
            {
                if (!_keysInBatch.Add(KeyDigest(request.RowKey)))
                {
                    var duplicate = new SubmissionOutcome(request, SubmissionStatus.Failed, null,
                        new NenException(NenErrorIds.DuplicateRowKey, NenErrorCategory.InvalidData,
                            $"Another row of this batch has the same key ({RowKey.Describe(request.RowKey)}); this one was not submitted."));
                    StopIfFailed(duplicate);
                    Complete(duplicate);
                    return;
                }
                if (_journal != null && !SettleFromJournal(request)) return;
            }

            if (UnknownWorkflow(request) is NenException unknown)
            {
                Complete(new SubmissionOutcome(request, SubmissionStatus.Failed, null, unknown));
                return;
            }

            // Queued for a place on the wire here, on the caller's thread, so rows go out in input order.
            long sequence = _window?.Take() ?? 0;
            Task turn = _window != null ? _window.TurnAsync(sequence, cancellationToken) : _wire.WaitAsync(cancellationToken);
            _queue.Run(() => RunOneAsync(request, turn, sequence, cancellationToken));
        }

        /// <summary>A place on the wire is given back: to the window (in input order), or to the next row waiting.</summary>
        private void ReleasePlace(long sequence)
        {
            if (_window != null) _window.Answered(sequence);
            else _wire.Release();
        }

        /// <summary>Applies the journal's re-run rule; returns true when the row must be sent.</summary>
        private bool SettleFromJournal(RunRequest request)
        {
            string key = request.RowKey!;
            JournalEntry? entry = _journal!.Find(key);
            switch (_journal.Decide(key, _retryUnknown, request.ValuesFingerprint))
            {
                case JournalDecision.ChangedSinceSent:
                    var changed = new SubmissionOutcome(request, SubmissionStatus.ChangedSinceSent, null,
                        JournalRowProblem.ChangedSinceSent(entry!, request.WorkflowId, request.ValuesFingerprint, _journal.Path));
                    StopIfFailed(changed);
                    Complete(changed);
                    return false;
                case JournalDecision.AlreadyAccepted:
                    var run = new RunAccepted(entry!.MessageId ?? string.Empty, entry.WorkflowId ?? request.WorkflowId, null, entry.At, "{}");
                    Complete(new SubmissionOutcome(request, SubmissionStatus.AlreadyAccepted, run, null));
                    return false;
                case JournalDecision.OutcomeUnknown:
                    Complete(new SubmissionOutcome(request, SubmissionStatus.OutcomeUnknown, null,
                        new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                            $"An earlier run of this batch may already have started this row ({RowKey.Describe(key)}); it is not resubmitted. "
                            + JournalRowProblem.WhatToDo(entry?.IdempotencyKey, _journal.Path))));
                    return false;
                case JournalDecision.RetryWithSameKey:
                    if (!string.IsNullOrEmpty(entry?.IdempotencyKey)) request.IdempotencyKey = entry!.IdempotencyKey!;
                    break;
            }
            return true;
        }

        private async Task<SubmissionOutcome> RunOneAsync(RunRequest request, Task turn, long sequence, CancellationToken cancellationToken)
        {
            try
            {
                await turn.ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                _window?.Answered(sequence); // it will never be sent: the window moves past it
                return new SubmissionOutcome(request, SubmissionStatus.Failed, null, NenNotSentException.Stopped(ex)); // stopped while waiting its turn
            }
            if (cancellationToken.IsCancellationRequested)
            {
                // The place was handed over in the same instant as Ctrl+C: give it back, journal nothing, send nothing.
                ReleasePlace(sequence);
                return new SubmissionOutcome(request, SubmissionStatus.Failed, null, NenNotSentException.Stopped(new OperationCanceledException(cancellationToken)));
            }
            SubmissionOutcome outcome;
            bool sent;
            Interlocked.Increment(ref _onTheWire);
            try
            {
                (outcome, sent) = await SendOneAsync(request, cancellationToken).ConfigureAwait(false);
                // Before the place on the wire goes to the next row: a workflow the service does not know is asked about once.
                if (sent && outcome.Status == SubmissionStatus.Failed && outcome.Error!.ErrorId == NenErrorIds.WorkflowNotFound)
                    _unknownWorkflows.TryAdd(request.WorkflowId, (outcome.Error, request.Label));
                StopIfFailed(outcome);
            }
            finally
            {
                Interlocked.Decrement(ref _onTheWire);
                ReleasePlace(sequence);
            }
            // The outcome's line is written once the place is handed on: its fsync need not hold up the next row.
            if (sent) await RecordOutcomeAsync(outcome).ConfigureAwait(false);
            return outcome;
        }

        /// <summary>Sends one row; <c>sent</c> is false when it never left because its journal line could not be written.</summary>
        private async Task<(SubmissionOutcome Outcome, bool Sent)> SendOneAsync(RunRequest request, CancellationToken cancellationToken)
        {
            // The batch stopped while this row waited for its place: nothing of it leaves, and the journal does not
            // know it, so a re-run sends it.
            NenException? stopped = Circuit.ClosedBecause;
            if (stopped != null) return (new SubmissionOutcome(request, SubmissionStatus.Failed, null, NenNotSentException.GateClosed(stopped)), false);
            // The service said it does not know this row's workflow while the row waited for its place.
            if (UnknownWorkflow(request) is NenException refused) return (new SubmissionOutcome(request, SubmissionStatus.Failed, null, refused), false);
            if (_journal != null && request.RowKey != null)
            {
                // On disk before the request leaves: a crash can then never make a re-run send it blindly. A row
                // whose line cannot be written is not sent at all.
                try
                {
                    await _journal.RecordSubmittingAsync(request.RowKey, request.WorkflowId, request.IdempotencyKey, request.Row, request.ValuesFingerprint).ConfigureAwait(false);
                }
                catch (NenException ex) when (ex.ErrorId == NenErrorIds.JournalWriteFailed)
                {
                    JournalFailed(ex);
                    return (new SubmissionOutcome(request, SubmissionStatus.Failed, null, NenNotSentException.GateClosed(ex)), false);
                }
                catch (ObjectDisposedException ex)
                {
                    return (new SubmissionOutcome(request, SubmissionStatus.Failed, null, NenNotSentException.Stopped(ex)), false);
                }
            }

            try
            {
                RunAccepted accepted = await _client.StartRunAsync(request, cancellationToken, Circuit).ConfigureAwait(false);
                return (new SubmissionOutcome(request, SubmissionStatus.Accepted, accepted, null), true);
            }
            catch (NenOutcomeUnknownException ex)
            {
                return (new SubmissionOutcome(request, SubmissionStatus.OutcomeUnknown, null, ex), true);
            }
            catch (NenException ex)
            {
                return (new SubmissionOutcome(request, SubmissionStatus.Failed, null, ex), true);
            }
            catch (Exception ex)
            {
                // Stopped while on the wire, or something unforeseen: the server may have seen it.
                var unknown = new NenOutcomeUnknownException(ex is OperationCanceledException
                        ? $"The batch was stopped while this row was being sent; it may or may not have started a run. Idempotency-Key: {request.IdempotencyKey}."
                        : $"Unexpected failure while sending this row ({ex.GetType().Name}); it may or may not have started a run. Idempotency-Key: {request.IdempotencyKey}.",
                    request.IdempotencyKey, ex);
                return (new SubmissionOutcome(request, SubmissionStatus.OutcomeUnknown, null, unknown), true);
            }
        }

        /// <summary>Journals a sent row's outcome (nothing without a journal or a row key).</summary>
        private Task RecordOutcomeAsync(SubmissionOutcome outcome)
        {
            RunRequest request = outcome.Request;
            if (_journal is null || request.RowKey is null) return Task.CompletedTask;
            string key = request.RowKey, idempotencyKey = request.IdempotencyKey;
            string? fingerprint = request.ValuesFingerprint;
            switch (outcome.Status)
            {
                case SubmissionStatus.Accepted:
                    return JournalAsync(j => j.RecordAcceptedAsync(key, outcome.Run!, idempotencyKey, request.Row, fingerprint), outcome);
                case SubmissionStatus.OutcomeUnknown:
                    return JournalAsync(j => j.RecordUnknownAsync(key, request.WorkflowId, idempotencyKey, outcome.Error!.ErrorId, request.Row, fingerprint), outcome);
                default:
                    return JournalAsync(j => j.RecordFailedAsync(key, request.WorkflowId, idempotencyKey, outcome.Error!.ErrorId, request.Row, fingerprint), outcome);
            }
        }

        /// <summary>Writes an outcome's record; if the journal fails, the batch stops sending and the row is remembered.</summary>
        private async Task JournalAsync(Func<RunJournal, Task> write, SubmissionOutcome outcome)
        {
            try
            {
                await write(_journal!).ConfigureAwait(false);
            }
            catch (NenException ex) when (ex.ErrorId == NenErrorIds.JournalWriteFailed)
            {
                JournalFailed(ex);
                if (outcome.Status == SubmissionStatus.Accepted || outcome.Status == SubmissionStatus.OutcomeUnknown) _unjournaled.Enqueue(outcome);
            }
            catch (ObjectDisposedException)
            {
                // The command is ending (Ctrl+C) and let the journal go first; Submitting stays the last line: "unknown".
            }
        }

        /// <summary>
        /// The answer for a row whose workflow the service already said it does not know (NenWorkflowNotFound, not sent:
        /// nothing is journaled, so a re-run sends it once the workflow exists); null when the row may be sent.
        /// </summary>
        private NenException? UnknownWorkflow(RunRequest request)
        {
            if (_unknownWorkflows.IsEmpty || !_unknownWorkflows.TryGetValue(request.WorkflowId, out var known)) return null;
            string asked = known.Row != null ? $" ({RowLabel.Capitalized(known.Row)} was answered: {known.Answer.Message})" : $" ({known.Answer.Message})";
            return new NenException(NenErrorIds.WorkflowNotFound, known.Answer.Category,
                $"Not sent: the service does not know workflow '{request.WorkflowId}'{asked}", known.Answer)
            {
                StatusCode = known.Answer.StatusCode,
                ServerError = known.Answer.ServerError,
                ServerMessage = known.Answer.ServerMessage,
            };
        }

        /// <summary>
        /// Sends nothing more (the command stops at an error): rows not yet on the wire end as not sent, requests on
        /// the wire finish as they would, and every outcome can still be taken.
        /// </summary>
        public void StopSending(NenException reason) => Circuit.Close(reason);

        /// <summary>With <see cref="StopAtFirstFailure"/>: a failed or unknown row stops the sending (rows not sent do not count).</summary>
        private void StopIfFailed(SubmissionOutcome outcome)
        {
            if (!StopAtFirstFailure || outcome.Succeeded || outcome.Error is NenNotSentException) return;
            Circuit.Close(new NenException(NenErrorIds.NotSent, NenErrorCategory.OperationStopped,
                "The command stopped at the first row that failed (-ErrorAction Stop), so no other row was sent."));
        }

        private void JournalFailed(NenException failure)
        {
            if (Interlocked.CompareExchange(ref _journalFailure, failure, null) == null) Circuit.Close(failure);
        }

        /// <summary>A summary of the rows a journal failure left unrecorded, for the error that ends the batch.</summary>
        public string DescribeUnjournaled()
        {
            var rows = new List<string>();
            foreach (SubmissionOutcome o in _unjournaled)
            {
                if (rows.Count == UnjournaledShown) { rows.Add("..."); break; }
                rows.Add(o.Run != null ? $"{RowKey.Describe(o.Request.RowKey ?? "?")} -> run {o.Run.MessageId}" : $"{RowKey.Describe(o.Request.RowKey ?? "?")} (outcome unknown, Idempotency-Key {o.Request.IdempotencyKey})");
            }
            return string.Join("; ", rows);
        }

        private void Complete(SubmissionOutcome outcome) => _queue.Complete(outcome);

        /// <summary>Takes a finished outcome without waiting.</summary>
        public bool TryTake(out SubmissionOutcome? outcome) => _queue.TryTake(out outcome);

        /// <summary>Waits for the next outcome; null when nothing is outstanding.</summary>
        public Task<SubmissionOutcome?> TakeAsync(CancellationToken cancellationToken = default) => _queue.TakeAsync(cancellationToken);

        /// <summary>Streams <paramref name="requests"/> through the submitter, yielding outcomes as they complete.</summary>
        public async IAsyncEnumerable<SubmissionOutcome> SubmitAllAsync(IEnumerable<RunRequest> requests, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (RunRequest request in requests)
            {
                while (!HasFreeSlot)
                {
                    SubmissionOutcome? next = await TakeAsync(cancellationToken).ConfigureAwait(false);
                    if (next != null) yield return next;
                }
                await SubmitAsync(request, cancellationToken).ConfigureAwait(false);
                while (TryTake(out SubmissionOutcome? ready)) yield return ready!;
            }
            SubmissionOutcome? rest;
            while ((rest = await TakeAsync(cancellationToken).ConfigureAwait(false)) != null) yield return rest;
        }

        /// <summary>Completes when no request is on the wire any more (after cancellation, say).</summary>
        public Task WhenIdleAsync() => _queue.WhenIdleAsync();

        private static (ulong, ulong) KeyDigest(string key)
        {
            byte[] hash = Signing.Sha256.Hash(System.Text.Encoding.UTF8.GetBytes(key));
            return (BitConverter.ToUInt64(hash, 0), BitConverter.ToUInt64(hash, 8));
        }

        // _wire is not disposed: a request still ending after the command gave up on it releases its place there.
        public void Dispose() => _queue.Dispose();
    }
}
