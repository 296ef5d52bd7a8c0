using System.Threading;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// The memory the requests in progress hold, against a limit: a request takes its overhead when it is accepted and
    /// its body's buffer as the body arrives, and gives all of it back when it is answered. Thread-safe, lock-free.
    /// </summary>
    internal sealed class RequestMemoryBudget
    {
        /// <summary>What one request in progress is counted for besides its body: the listener's connection buffer, the request and ours (an estimate on the high side).</summary>
        public const int RequestOverheadBytes = 16 * 1024;

        private readonly long _limit;
        private long _used;

        public RequestMemoryBudget(long limit) => _limit = limit;

        public long Used => Interlocked.Read(ref _used);

        /// <summary>Takes <paramref name="bytes"/> when they fit; false (nothing taken) when they do not.</summary>
        public bool TryTake(long bytes)
        {
            while (true)
            {
                long used = Interlocked.Read(ref _used);
                if (used + bytes > _limit) return false;
                if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
            }
        }

        public void Give(long bytes) => Interlocked.Add(ref _used, -bytes);
    }
}
