using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;

namespace NenAi.Core.Lookup
{
    /// <summary>
    /// Asks for the current status of many runs, one GET each, at most <see cref="MaxConcurrency"/> at once, while
    /// the input keeps streaming. It does not wait for runs to finish. A slot is held from <see cref="AddAsync"/>
    /// until the answer is taken, so memory stays flat however many runs come; answers come out as they arrive.
    /// </summary>
    public sealed class StatusLookup : IDisposable
    {
        private readonly NenApiClient _client;
        private readonly SemaphoreSlim _slots;
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly ConcurrentQueue<LookupOutcome> _done = new ConcurrentQueue<LookupOutcome>();
        private readonly ConcurrentDictionary<long, Task> _running = new ConcurrentDictionary<long, Task>();
        private long _nextId;
        private int _outstanding;

        public StatusLookup(NenApiClient client, int maxConcurrency)
        {
            if (maxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(maxConcurrency), "The concurrency must be at least 1.");
            _client = client ?? throw new ArgumentNullException(nameof(client));
            MaxConcurrency = maxConcurrency;
            _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        }

        public int MaxConcurrency { get; }
        /// <summary>True when <see cref="AddAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _slots.CurrentCount > 0;
        /// <summary>Runs added whose answer has not been taken yet.</summary>
        public int Outstanding => Volatile.Read(ref _outstanding);

        /// <summary>Takes a slot (waiting while all are held by untaken answers) and starts the GET.</summary>
        public async Task AddAsync(string messageId, object? tag = null, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(messageId))
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _outstanding);
            long id = Interlocked.Increment(ref _nextId);
            Task task = Task.Run(() => LookUpAsync(messageId.Trim(), tag, cancellationToken));
            _running[id] = task;
            _ = task.ContinueWith(_ => _running.TryRemove(id, out Task? _), TaskScheduler.Default);
        }

        private async Task LookUpAsync(string messageId, object? tag, CancellationToken cancellationToken)
        {
            LookupOutcome outcome;
            try
            {
                RunStatus status = await _client.GetRunAsync(messageId, cancellationToken).ConfigureAwait(false);
                outcome = new LookupOutcome(messageId, tag, status, null);
            }
            catch (NenException ex)
            {
                outcome = new LookupOutcome(messageId, tag, null, ex);
            }
            catch (OperationCanceledException ex)
            {
                outcome = new LookupOutcome(messageId, tag, null,
                    new NenException(NenErrorIds.Cancelled, NenErrorCategory.OperationStopped, $"The lookup of run {messageId} was stopped before it was answered.", ex));
            }
            catch (Exception ex)
            {
                outcome = new LookupOutcome(messageId, tag, null,
                    new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, $"Looking up run {messageId} failed unexpectedly: {ex.GetType().Name}.", ex));
            }
            _done.Enqueue(outcome);
            _ready.Release();
        }

        /// <summary>Takes an answer without waiting.</summary>
        public bool TryTake(out LookupOutcome? outcome)
        {
            outcome = null;
            if (!_ready.Wait(0)) return false;
            outcome = Dequeue();
            return true;
        }

        /// <summary>Waits for the next answer; null when nothing is outstanding.</summary>
        public async Task<LookupOutcome?> TakeAsync(CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _outstanding) == 0) return null;
            await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            return Dequeue();
        }

        private LookupOutcome Dequeue()
        {
            _done.TryDequeue(out LookupOutcome? outcome);
            Interlocked.Decrement(ref _outstanding);
            _slots.Release();
            return outcome!;
        }

        /// <summary>Completes when no request is on the wire any more (after cancellation, say).</summary>
        public Task WhenIdleAsync() => Task.WhenAll(_running.Values);

        public void Dispose()
        {
            _slots.Dispose();
            _ready.Dispose();
        }
    }
}
