using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Core.Batch
{
    /// <summary>
    /// Places on the wire handed out in input order, at most <c>size</c> rows past the oldest row not yet answered
    /// (a sliding window, not just a count). A batch that stops at its first failed row uses it: a row can then
    /// only have been sent while every row more than <c>size</c> - 1 before it had answered, so when a row fails,
    /// at most <c>size</c> - 1 rows after it are already on their way, whatever order the answers come in.
    /// </summary>
    internal sealed class InOrderWindow
    {
        private readonly object _gate = new object();
        private readonly int _size;
        private readonly SortedSet<long> _unanswered = new SortedSet<long>();
        private readonly SortedDictionary<long, TaskCompletionSource<bool>> _waiting = new SortedDictionary<long, TaskCompletionSource<bool>>();
        private long _next;

        public InOrderWindow(int size) => _size = size;

        /// <summary>Numbers the next row (call in input order, on the caller's thread).</summary>
        public long Take()
        {
            lock (_gate)
            {
                long sequence = _next++;
                _unanswered.Add(sequence);
                return sequence;
            }
        }

        /// <summary>Completes when row <paramref name="sequence"/> may go on the wire.</summary>
        public Task TurnAsync(long sequence, CancellationToken cancellationToken)
        {
            TaskCompletionSource<bool> turn;
            lock (_gate)
            {
                if (sequence < _unanswered.Min + _size) return Task.CompletedTask;
                turn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting[sequence] = turn;
            }
            if (!cancellationToken.CanBeCanceled) return turn.Task;
            CancellationTokenRegistration registration = cancellationToken.Register(() => turn.TrySetCanceled(cancellationToken));
            _ = turn.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
            return turn.Task;
        }

        /// <summary>Row <paramref name="sequence"/> answered (or will never be sent): the window moves on.</summary>
        public void Answered(long sequence)
        {
            var released = new List<KeyValuePair<long, TaskCompletionSource<bool>>>();
            lock (_gate)
            {
                _unanswered.Remove(sequence);
                _waiting.Remove(sequence);
                long limit = _unanswered.Count == 0 ? long.MaxValue : _unanswered.Min + _size;
                foreach (var waiting in _waiting)
                {
                    if (waiting.Key >= limit) break;
                    released.Add(waiting);
                }
                foreach (var turn in released) _waiting.Remove(turn.Key);
            }
            foreach (var turn in released) turn.Value.TrySetResult(true);
        }
    }
}
