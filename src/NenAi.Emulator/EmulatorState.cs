using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace NenAi.Emulator
{
    /// <summary>Everything the emulator remembers, plus the counters tests read through /_emulator/ledger.</summary>
    public sealed class EmulatorState
    {
        private readonly ConcurrentDictionary<string, EmulatedRun> _runs = new ConcurrentDictionary<string, EmulatedRun>(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentQueue<LedgerEntry> _ledger = new ConcurrentQueue<LedgerEntry>();
        private readonly ConcurrentDictionary<string, (string BodyHash, string MessageId, string Reply, DateTimeOffset At)> _idempotency = new();
        private readonly ConcurrentDictionary<string, int> _getsByRun = new ConcurrentDictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentQueue<WebhookDelivery> _deliveries = new ConcurrentQueue<WebhookDelivery>();
        private readonly ConcurrentQueue<DownloadRequest> _downloadRequests = new ConcurrentQueue<DownloadRequest>();
        private readonly ConcurrentDictionary<string, int> _userAgents = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        private readonly object _acceptGate = new object();
        private long _clockOffsetTicks;
        private int _postRuns, _getRuns, _downloads, _rejected, _postsInFlight, _maxPostsInFlight, _requestsInFlight, _maxRequestsInFlight;

        private readonly RunStateFile? _stateFile;

        public EmulatorState(EmulatorConfig config)
        {
            Config = config;
            Faults = new FaultInjector(config.Faults);
            WebhookFaults = new WebhookFaults(config.Webhooks);
            if (!string.IsNullOrEmpty(config.StateFile))
            {
                _stateFile = new RunStateFile(config.StateFile);
                foreach (EmulatedRun run in _stateFile.Load(config.Workflows))
                {
                    _runs[run.MessageId] = run;
                    _ledger.Enqueue(ToLedger(run));
                }
            }
        }

        private static LedgerEntry ToLedger(EmulatedRun run) => new LedgerEntry
        {
            MessageId = run.MessageId, WorkflowId = run.WorkflowId, IdempotencyKey = run.IdempotencyKey,
            AcceptedAt = run.AcceptedAt, EndsAt = run.EndsAt, Params = (System.Text.Json.Nodes.JsonObject)run.Params.DeepClone(),
        };

        public EmulatorConfig Config { get; }
        public FaultInjector Faults { get; }
        /// <summary>Drops, duplicates, delays and reorders webhooks (configuration "webhooks", or /_emulator/webhooks).</summary>
        public WebhookFaults WebhookFaults { get; }

        /// <summary>Emulated time: real UTC plus an offset tests can advance (URL expiry, run progress).</summary>
        public DateTimeOffset Now => DateTimeOffset.UtcNow + TimeSpan.FromTicks(Interlocked.Read(ref _clockOffsetTicks));

        public void AdvanceClock(TimeSpan by) => Interlocked.Add(ref _clockOffsetTicks, by.Ticks);

        public int PostRuns => Volatile.Read(ref _postRuns);
        public int GetRuns => Volatile.Read(ref _getRuns);
        public int Downloads => Volatile.Read(ref _downloads);
        /// <summary>The most POST /runs requests the emulator ever had in progress at once.</summary>
        public int MaxConcurrentPosts => Volatile.Read(ref _maxPostsInFlight);

        /// <summary>Requests of any kind being handled right now (a client that stopped has none left here).</summary>
        public int RequestsInFlight => Volatile.Read(ref _requestsInFlight);

        /// <summary>The most requests of any kind handled at the same time so far (a client's real concurrency).</summary>
        public int MaxRequestsInFlight => Volatile.Read(ref _maxRequestsInFlight);

        /// <summary>Counts a request of any kind as in progress; dispose when it has been handled.</summary>
        public IDisposable EnterRequest()
        {
            int now = Interlocked.Increment(ref _requestsInFlight);
            int max;
            while (now > (max = Volatile.Read(ref _maxRequestsInFlight)) && Interlocked.CompareExchange(ref _maxRequestsInFlight, now, max) != max) { }
            return new Leave(() => Interlocked.Decrement(ref _requestsInFlight));
        }

        /// <summary>Counts a POST /runs and tracks how many are in progress; dispose when answered.</summary>
        public IDisposable EnterPost()
        {
            Interlocked.Increment(ref _postRuns);
            int now = Interlocked.Increment(ref _postsInFlight);
            int max;
            while (now > (max = Volatile.Read(ref _maxPostsInFlight)) && Interlocked.CompareExchange(ref _maxPostsInFlight, now, max) != max) { }
            return new Leave(() => Interlocked.Decrement(ref _postsInFlight));
        }

        private sealed class Leave : IDisposable
        {
            private Action? _action;
            public Leave(Action action) => _action = action;
            public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
        }
        public void CountRejected() => Interlocked.Increment(ref _rejected);
        public void CountDownload() => Interlocked.Increment(ref _downloads);
        public void CountGet(string messageId)
        {
            Interlocked.Increment(ref _getRuns);
            _getsByRun.AddOrUpdate(messageId, 1, (_, n) => n + 1);
        }

        /// <summary>Which clients called (User-Agent → requests), for support-style questions and tests.</summary>
        public IReadOnlyDictionary<string, int> UserAgents => _userAgents;

        private readonly ConcurrentDictionary<string, int> _clientCertificates = new ConcurrentDictionary<string, int>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Thumbprints of the client certificates presented (HTTPS with client certificates only) → requests.</summary>
        public IReadOnlyDictionary<string, int> ClientCertificates => _clientCertificates;

        public void CountClientCertificate(string thumbprint) => _clientCertificates.AddOrUpdate(thumbprint, 1, (_, n) => n + 1);

        public void CountUserAgent(string? userAgent) => _userAgents.AddOrUpdate(string.IsNullOrEmpty(userAgent) ? "(none)" : userAgent!, 1, (_, n) => n + 1);

        public EmulatedRun? Find(string messageId) => _runs.TryGetValue(messageId, out EmulatedRun? run) ? run : null;

        /// <summary>
        /// Records a run, or returns the original reply when the same Idempotency-Key and body were seen in
        /// the last 24 h. A key reused with another body is refused (null reply, conflict = true).
        /// </summary>
        public (string? ReplayedReply, bool Conflict) AcceptOrReplay(string apiKeyName, string? idempotencyKey, string bodyHash, Func<EmulatedRun> create, Func<EmulatedRun, string> reply)
        {
            lock (_acceptGate)
            {
                string? cacheKey = Config.HonourIdempotencyKey && !string.IsNullOrEmpty(idempotencyKey) ? apiKeyName + "\n" + idempotencyKey : null;
                if (cacheKey != null && _idempotency.TryGetValue(cacheKey, out var seen) && Now - seen.At < TimeSpan.FromHours(24))
                {
                    return seen.BodyHash == bodyHash ? (seen.Reply, false) : (null, true);
                }
                EmulatedRun run = create();
                _stateFile?.Append(run);
                _runs[run.MessageId] = run;
                _ledger.Enqueue(ToLedger(run));
                string text = reply(run);
                if (cacheKey != null) _idempotency[cacheKey] = (bodyHash, run.MessageId, text, Now);
                return (text, false);
            }
        }

        private readonly ConcurrentDictionary<string, bool> _revoked = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        /// <summary>Revokes an API key by name (a key revoked mid-batch): every request with it is then answered 401.</summary>
        public void RevokeKey(string name) => _revoked[name] = true;

        /// <summary>Takes a revoked key back into service.</summary>
        public void RestoreKey(string name) => _revoked.TryRemove(name, out _);

        public bool IsRevoked(string name) => _revoked.ContainsKey(name);

        public void RecordDelivery(WebhookDelivery delivery) => _deliveries.Enqueue(delivery);

        public void RecordDownload(DownloadRequest request) => _downloadRequests.Enqueue(request);

        /// <summary>Every presigned download received, in order (Range, If-Range, whether it carried credentials).</summary>
        public IReadOnlyList<DownloadRequest> DownloadRequests => _downloadRequests.ToArray();

        public object Snapshot(bool includeRuns = true) => new
        {
            accepted = _ledger.Count,
            requests = new { inFlight = RequestsInFlight, maxConcurrentPosts = MaxConcurrentPosts, postRuns = PostRuns, getRuns = GetRuns, downloads = Downloads, rejected = Volatile.Read(ref _rejected) },
            runs = includeRuns ? _ledger.ToArray() : Array.Empty<LedgerEntry>(),
            getsByRun = includeRuns ? _getsByRun.ToDictionary(p => p.Key, p => p.Value) : new Dictionary<string, int>(),
            webhooks = _deliveries.ToArray(),
            userAgents = _userAgents.ToDictionary(p => p.Key, p => p.Value),
        };

        public IReadOnlyList<LedgerEntry> Ledger => _ledger.ToArray();
        public IReadOnlyList<WebhookDelivery> Deliveries => _deliveries.ToArray();
        public int GetsFor(string messageId) => _getsByRun.TryGetValue(messageId, out int n) ? n : 0;

        public void Reset()
        {
            lock (_acceptGate)
            {
                _runs.Clear();
                while (_ledger.TryDequeue(out _)) { }
                _idempotency.Clear();
                _getsByRun.Clear();
                _userAgents.Clear();
                while (_deliveries.TryDequeue(out _)) { }
                while (_downloadRequests.TryDequeue(out _)) { }
                Interlocked.Exchange(ref _postRuns, 0);
                Interlocked.Exchange(ref _maxPostsInFlight, 0);
                Interlocked.Exchange(ref _maxRequestsInFlight, 0);
                Interlocked.Exchange(ref _getRuns, 0);
                Interlocked.Exchange(ref _downloads, 0);
                Interlocked.Exchange(ref _rejected, 0);
                Interlocked.Exchange(ref _clockOffsetTicks, 0);
                _revoked.Clear();
                Faults.Clear();
                WebhookFaults.Clear(Config.Webhooks);
            }
        }
    }
}
