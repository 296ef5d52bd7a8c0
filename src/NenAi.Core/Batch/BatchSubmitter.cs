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

namespace NenAi.Core.Batch
{
    /// <summary>
    /// Submits rows with bounded concurrency while the input keeps streaming. A slot is held from
    /// <see cref="SubmitAsync"/> until the outcome is taken, so at most <see cref="MaxConcurrency"/>
    /// rows live in memory however long the input is. Outcomes come out as requests complete.
    /// </summary>
    public sealed class BatchSubmitter : IDisposable
    {
        private readonly NenApiClient _client;
        private readonly RunJournal? _journal;
        private readonly bool _retryUnknown;
        private readonly SemaphoreSlim _slots;
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly ConcurrentQueue<SubmissionOutcome> _done = new ConcurrentQueue<SubmissionOutcome>();
        private readonly ConcurrentDictionary<long, Task> _running = new ConcurrentDictionary<long, Task>();
        // 128-bit digests rather than the key strings: 100,000 keys cost ~4 MB instead of ~25 MB.
        private readonly HashSet<(ulong, ulong)> _keysInBatch = new HashSet<(ulong, ulong)>();
        private long _nextId;
        private int _outstanding;

        /// <param name="retryUnknown">Resubmit rows the journal marks "outcome unknown", with their original Idempotency-Key.</param>
        public BatchSubmitter(NenApiClient client, int maxConcurrency, RunJournal? journal = null, bool retryUnknown = false)
        {
            if (maxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(maxConcurrency), "The concurrency must be at least 1.");
            _client = client ?? throw new ArgumentNullException(nameof(client));
            MaxConcurrency = maxConcurrency;
            _journal = journal;
            _retryUnknown = retryUnknown;
            _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        }

        public int MaxConcurrency { get; }
        /// <summary>True when <see cref="SubmitAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _slots.CurrentCount > 0;
        /// <summary>Rows submitted whose outcome has not been taken yet.</summary>
        public int Outstanding => Volatile.Read(ref _outstanding);
        /// <summary>Requests currently on the wire.</summary>
        public int InFlight => _running.Count;

        /// <summary>
        /// Takes a slot (waiting while all are held by untaken outcomes) and starts the request. Rows the
        /// journal or a duplicate key settles complete at once without any request.
        /// </summary>
        public async Task SubmitAsync(RunRequest request, CancellationToken cancellationToken = default)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _outstanding);

            if (request.RowKey != null)
            {
                if (!_keysInBatch.Add(KeyDigest(request.RowKey)))
                {
                    Complete(new SubmissionOutcome(request, SubmissionStatus.Failed, null,
                        new NenException(NenErrorIds.DuplicateRowKey, NenErrorCategory.InvalidData,
                            $"Another row of this batch has the same key ({Describe(request.RowKey)}); this one was not submitted.")));
                    return;
                }
                if (_journal != null && !SettleFromJournal(request)) return;
            }

            long id = Interlocked.Increment(ref _nextId);
            Task task = Task.Run(() => RunOneAsync(request, cancellationToken));
            _running[id] = task;
            _ = task.ContinueWith(_ => _running.TryRemove(id, out Task? _), TaskScheduler.Default);
        }

        /// <summary>Applies the journal's re-run rule; returns true when the row must be sent.</summary>
        private bool SettleFromJournal(RunRequest request)
        {
            string key = request.RowKey!;
            JournalEntry? entry = _journal!.Find(key);
            switch (_journal.Decide(key, _retryUnknown))
            {
                case JournalDecision.AlreadyAccepted:
                    var run = new RunAccepted(entry!.MessageId ?? string.Empty, entry.WorkflowId ?? request.WorkflowId, null, entry.At, "{}");
                    Complete(new SubmissionOutcome(request, SubmissionStatus.AlreadyAccepted, run, null));
                    return false;
                case JournalDecision.OutcomeUnknown:
                    Complete(new SubmissionOutcome(request, SubmissionStatus.OutcomeUnknown, null,
                        new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                            $"An earlier run of this batch may already have started this row ({Describe(key)}); it is not resubmitted. Check it with Nen, or use -RetryUnknown to resend it with its original Idempotency-Key.")));
                    return false;
                case JournalDecision.RetryWithSameKey:
                    if (!string.IsNullOrEmpty(entry?.IdempotencyKey)) request.IdempotencyKey = entry!.IdempotencyKey!;
                    break;
            }
            _journal.RecordSubmitting(key, request.WorkflowId, request.IdempotencyKey);
            return true;
        }

        private async Task RunOneAsync(RunRequest request, CancellationToken cancellationToken)
        {
            SubmissionOutcome outcome;
            try
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Journal(j => j.RecordFailed(request.RowKey!, request.WorkflowId, request.IdempotencyKey, "Cancelled"), request);
                    outcome = new SubmissionOutcome(request, SubmissionStatus.Failed, null,
                        new NenException("NenCancelled", NenErrorCategory.OperationStopped, "The batch was stopped before this row was sent."));
                }
                else
                {
                    RunAccepted accepted = await _client.StartRunAsync(request, cancellationToken).ConfigureAwait(false);
                    Journal(j => j.RecordAccepted(request.RowKey!, accepted, request.IdempotencyKey), request);
                    outcome = new SubmissionOutcome(request, SubmissionStatus.Accepted, accepted, null);
                }
            }
            catch (NenOutcomeUnknownException ex)
            {
                outcome = Unknown(request, ex);
            }
            catch (NenException ex)
            {
                Journal(j => j.RecordFailed(request.RowKey!, request.WorkflowId, request.IdempotencyKey, ex.ErrorId), request);
                outcome = new SubmissionOutcome(request, SubmissionStatus.Failed, null, ex);
            }
            catch (OperationCanceledException ex)
            {
                // Stopped mid-request: the server may have seen it.
                outcome = Unknown(request, new NenOutcomeUnknownException(
                    $"The batch was stopped while this row was being sent; it may or may not have started a run. Idempotency-Key: {request.IdempotencyKey}.",
                    request.IdempotencyKey, ex));
            }
            catch (Exception ex)
            {
                outcome = Unknown(request, new NenOutcomeUnknownException(
                    $"Unexpected failure while sending this row ({ex.GetType().Name}); it may or may not have started a run.", request.IdempotencyKey, ex));
            }
            Complete(outcome);
        }

        private SubmissionOutcome Unknown(RunRequest request, NenOutcomeUnknownException ex)
        {
            Journal(j => j.RecordUnknown(request.RowKey!, request.WorkflowId, request.IdempotencyKey, ex.ErrorId), request);
            return new SubmissionOutcome(request, SubmissionStatus.OutcomeUnknown, null, ex);
        }

        private void Journal(Action<RunJournal> write, RunRequest request)
        {
            if (_journal is null || request.RowKey is null) return;
            write(_journal);
        }

        private void Complete(SubmissionOutcome outcome)
        {
            _done.Enqueue(outcome);
            _ready.Release();
        }

        /// <summary>Takes a finished outcome without waiting.</summary>
        public bool TryTake(out SubmissionOutcome? outcome)
        {
            outcome = null;
            if (!_ready.Wait(0)) return false;
            outcome = Dequeue();
            return true;
        }

        /// <summary>Waits for the next outcome; null when nothing is outstanding.</summary>
        public async Task<SubmissionOutcome?> TakeAsync(CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _outstanding) == 0) return null;
            await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            return Dequeue();
        }

        private SubmissionOutcome Dequeue()
        {
            _done.TryDequeue(out SubmissionOutcome? outcome);
            Interlocked.Decrement(ref _outstanding);
            _slots.Release();
            return outcome!;
        }

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
        public Task WhenIdleAsync() => Task.WhenAll(_running.Values);

        private static (ulong, ulong) KeyDigest(string key)
        {
            using var sha = System.Security.Cryptography.SHA256.Create();
            byte[] hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(key));
            return (BitConverter.ToUInt64(hash, 0), BitConverter.ToUInt64(hash, 8));
        }

        private static string Describe(string key) => key.StartsWith("col:", StringComparison.Ordinal) ? "key '" + key.Substring(4) + "'" : "row hash " + key.Substring(0, Math.Min(key.Length, 19));

        public void Dispose()
        {
            _slots.Dispose();
            _ready.Dispose();
        }
    }
}
