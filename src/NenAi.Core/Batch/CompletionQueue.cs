using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Core.Batch
{
    /// <summary>
    /// Bounded concurrent work whose outcomes are taken as they complete. A slot is held from <see cref="EnterAsync"/>
    /// until the outcome is taken, so at most <see cref="MaxConcurrency"/> items live in memory however long the
    /// input is (the batch submitter and the status lookup stream any number of rows through it).
    /// </summary>
    public sealed class CompletionQueue<T> : IDisposable where T : class
    {
        private readonly SemaphoreSlim _slots;
        private readonly SemaphoreSlim _ready = new SemaphoreSlim(0);
        private readonly ConcurrentQueue<T> _done = new ConcurrentQueue<T>();
        private readonly ConcurrentDictionary<long, Task> _running = new ConcurrentDictionary<long, Task>();
        private long _nextId;
        private int _outstanding;
        private int _runningCount;

        public CompletionQueue(int maxConcurrency)
        {
            if (maxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(maxConcurrency), "The concurrency must be at least 1.");
            MaxConcurrency = maxConcurrency;
            _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        }

        public int MaxConcurrency { get; }
        /// <summary>True when <see cref="EnterAsync"/> would not wait.</summary>
        public bool HasFreeSlot => _slots.CurrentCount > 0;
        /// <summary>Items entered whose outcome has not been taken yet.</summary>
        public int Outstanding => Volatile.Read(ref _outstanding);
        /// <summary>Work started and not finished (counted by the work itself, so it is 0 once <see cref="WhenIdleAsync"/> completes).</summary>
        public int Running => Volatile.Read(ref _runningCount);

        /// <summary>Takes a slot, waiting while all are held by untaken outcomes; then <see cref="Run"/> or <see cref="Complete"/> must follow.</summary>
        public async Task EnterAsync(CancellationToken cancellationToken)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _outstanding);
        }

        /// <summary>
        /// Runs <paramref name="work"/> on the thread pool; its result (it must not throw) becomes the outcome. The task
        /// returned ends once that outcome can be taken (work that must come out after it waits for it).
        /// </summary>
        public Task Run(Func<Task<T>> work)
        {
            long id = Interlocked.Increment(ref _nextId);
            Interlocked.Increment(ref _runningCount);
            Task task = Task.Run(async () =>
            {
                T outcome;
                try { outcome = await work().ConfigureAwait(false); }
                finally { Interlocked.Decrement(ref _runningCount); }
                Complete(outcome);
            });
            _running[id] = task;
            _ = task.ContinueWith(_ => _running.TryRemove(id, out Task? _), TaskScheduler.Default);
            return task;
        }

        /// <summary>An outcome known without any work (a row the journal settles, say).</summary>
        public void Complete(T outcome)
        {
            _done.Enqueue(outcome);
            // Disposed while work still ran (a stop, a receiver ended with a poll on the wire): nobody takes outcomes any
            // more, and the work's task must not fault with nobody to observe it.
            try { _ready.Release(); }
            catch (ObjectDisposedException) { }
        }

        /// <summary>Takes a finished outcome without waiting.</summary>
        public bool TryTake(out T? outcome)
        {
            outcome = null;
            if (!_ready.Wait(0)) return false;
            outcome = Dequeue();
            return true;
        }

        /// <summary>Waits for the next outcome; null when nothing is outstanding.</summary>
        public async Task<T?> TakeAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _outstanding) == 0) return null;
            await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            return Dequeue();
        }

        private T Dequeue()
        {
            _done.TryDequeue(out T? outcome);
            Interlocked.Decrement(ref _outstanding);
            _slots.Release();
            return outcome!;
        }

        /// <summary>Completes when no work is running any more (after cancellation, say).</summary>
        public Task WhenIdleAsync() => Task.WhenAll(_running.Values);

        public void Dispose()
        {
            _slots.Dispose();
            _ready.Dispose();
        }
    }
}
