using System;
using System.Diagnostics;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Core.Http
{
    /// <summary>
    /// A connection lease for .NET Framework, where HttpClientHandler has no PooledConnectionLifetime and
    /// ServicePoint.ConnectionLeaseTimeout is per ServicePoint, shared by everything in the process that talks to the
    /// same host. Every <see cref="Lease"/> the inner handler is replaced by a new one: each .NET Framework handler
    /// has a connection group of its own, so the new one opens new connections (and the ServicePoint re-resolves DNS
    /// once its DnsRefreshTimeout, 2 minutes by default, has passed), while the old one finishes what it is sending
    /// and is then disposed, which closes its connections once idle (ConnectionGroup.DisableKeepAliveOnConnections
    /// closes a busy connection only when its response is done). Nothing process-wide is touched.
    /// </summary>
    public sealed class RenewingHandler : HttpMessageHandler
    {
        private readonly Func<HttpMessageHandler> _create;
        private readonly Func<TimeSpan> _clock;
        private readonly object _gate = new object();
        private Generation _current;
        private bool _disposed;

        /// <param name="create">Makes a configured handler; called now and once per lease.</param>
        /// <param name="clock">Time since some fixed start (a stopwatch); tests pass their own.</param>
        public RenewingHandler(Func<HttpMessageHandler> create, TimeSpan lease, Func<TimeSpan>? clock = null)
        {
            _create = create ?? throw new ArgumentNullException(nameof(create));
            if (lease <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lease));
            Lease = lease;
            if (clock is null)
            {
                var stopwatch = Stopwatch.StartNew();
                clock = () => stopwatch.Elapsed;
            }
            _clock = clock;
            _current = new Generation(_create(), _clock());
        }

        public TimeSpan Lease { get; }

        /// <summary>The handler new requests go to (for diagnostics and tests).</summary>
        public HttpMessageHandler Current { get { lock (_gate) return _current.Handler; } }

        /// <summary>How many handlers have been made so far (the first one included).</summary>
        public int Generations { get { lock (_gate) return _current.Number; } }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Generation generation = Acquire();
            try
            {
                return await generation.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Release(generation);
            }
        }

        private Generation Acquire()
        {
            Generation? retired = null;
            Generation current;
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(RenewingHandler));
                if (_clock() - _current.Born >= Lease)
                {
                    retired = _current;
                    retired.Retired = true;
                    _current = new Generation(_create(), _clock(), retired.Number + 1);
                    if (retired.InFlight > 0) retired = null; // the last of its requests disposes it
                }
                current = _current;
                current.InFlight++;
            }
            retired?.Dispose();
            return current;
        }

        private void Release(Generation generation)
        {
            bool dispose;
            lock (_gate)
            {
                generation.InFlight--;
                dispose = generation.Retired && generation.InFlight == 0;
            }
            if (dispose) generation.Dispose();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Generation current;
                lock (_gate)
                {
                    if (_disposed) return;
                    _disposed = true;
                    current = _current;
                    current.Retired = true;
                    if (current.InFlight > 0) return;
                }
                current.Dispose();
            }
            base.Dispose(disposing);
        }

        private sealed class Generation(HttpMessageHandler handler, TimeSpan born, int number = 1)
        {
            public HttpMessageHandler Handler { get; } = handler;
            public HttpMessageInvoker Invoker { get; } = new HttpMessageInvoker(handler, disposeHandler: false);
            public TimeSpan Born { get; } = born;
            public int Number { get; } = number;
            public int InFlight { get; set; }
            public bool Retired { get; set; }

            public void Dispose()
            {
                Invoker.Dispose();
                Handler.Dispose();
            }
        }
    }
}
