using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Logging;
using NenAi.Core.Models;
using NenAi.Core.Signing;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// The HTTP side of a webhook receiver, on HttpListener (http.sys on Windows, managed sockets elsewhere). Every
    /// request is handled on its own and holds no scarce slot: what bounds requests in progress is the memory they
    /// hold (<see cref="WebhookListenerOptions.MaxRequestMemoryBytes"/>; past it, 503 with Retry-After at once), and a
    /// body's buffer grows with the bytes that arrive, never with the length a client declares. So slow, idle or
    /// hostile clients never hold up another delivery: not a POST → 405; a declared body past the limit → 413 without
    /// reading it; a body that does not arrive within <see cref="WebhookListenerOptions.BodyTimeout"/> → 408 and the
    /// connection is closed; a bad or missing signature → 401; a signed body that is not a run status → 400 and
    /// <c>onProblem</c>; a verified update → <c>onUpdate</c>, whose <see cref="DeliveryAnswer"/> says what to answer
    /// and when (a 200 waits for the update's record to reach the disk, never for the pipeline).
    /// </summary>
    public sealed class WebhookListener : IDisposable
    {
        /// <summary>A body's first buffer at most; it grows (doubling) only as bytes arrive.</summary>
        private const int InitialBodyBuffer = 4 * 1024;
        private readonly WebhookListenerOptions _options;
        private readonly Func<RunSnapshot, DeliveryAnswer> _onUpdate;
        private readonly Action<NenException> _onProblem;
        private readonly WebhookCounters _counters;
        private readonly INenLog _log;
        private readonly HttpListener _listener = new HttpListener { IgnoreWriteExceptions = true };
        private readonly RequestMemoryBudget _memory;
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        /// <summary>Requests taken and not yet ended: a stop drops them itself (see <see cref="Stop"/>).</summary>
        private readonly ConcurrentDictionary<HttpListenerContext, byte> _inProgress = new ConcurrentDictionary<HttpListenerContext, byte>();
        private Task? _accepting;
        private int _stopped;
        private int _refusalWarned;

        public WebhookListener(WebhookListenerOptions options, Func<RunSnapshot, DeliveryAnswer> onUpdate, Action<NenException> onProblem, WebhookCounters counters, INenLog? log = null)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.Prefixes.Count == 0) throw new ArgumentException("At least one prefix is needed.", nameof(options));
            if (options.Secrets.Count == 0) throw new ArgumentException("At least one webhook secret is needed.", nameof(options));
            if (options.MaxBodyBytes < 1 || options.MaxBodyBytes > WebhookSignature.MaxBodyBytes) throw new ArgumentOutOfRangeException(nameof(options), "The body limit is out of range.");
            if (options.BodyTimeout <= TimeSpan.Zero || options.HeaderTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "The read timeouts must be positive.");
            if (options.MaxRequestMemoryBytes < WebhookListenerOptions.MinimumRequestMemory(options.MaxBodyBytes))
                throw new ArgumentOutOfRangeException(nameof(options), "The request memory must hold at least one request with the largest body.");
            _onUpdate = onUpdate;
            _onProblem = onProblem;
            _counters = counters;
            _log = RedactingLog.Wrap(log);
            _memory = new RequestMemoryBudget(options.MaxRequestMemoryBytes);
        }

        /// <summary>Bytes the requests in progress hold now (as counted against <see cref="WebhookListenerOptions.MaxRequestMemoryBytes"/>).</summary>
        public long RequestMemoryInUse => _memory.Used;

        public bool IsListening => _listener.IsListening && Volatile.Read(ref _stopped) == 0;

        /// <summary>Binds every prefix and starts taking requests; a prefix that cannot be bound is NenWebhookListenFailed.</summary>
        public void Start()
        {
            string current = string.Empty;
            try
            {
                foreach (string prefix in _options.Prefixes)
                {
                    current = WebhookPrefix.Check(prefix);
                    _listener.Prefixes.Add(current);
                }
                if (HttpSysTimeouts.For(_options, IsWindows) is HttpSysTimeouts timeouts) timeouts.ApplyTo(_listener);
                _listener.Start();
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is SocketException || ex is PlatformNotSupportedException || ex is ArgumentException)
            {
                int code = ex is HttpListenerException h ? h.ErrorCode : ex is SocketException s ? s.ErrorCode : 0;
                string on = _options.Prefixes.Count == 1 ? $"'{Redactor.Redact(current)}'" : "the prefixes " + string.Join(", ", _options.Prefixes);
                throw new NenException(NenErrorIds.WebhookListenFailed, ListenFailureCategory(code, IsWindows),
                    $"Cannot listen on {on}: {ex.Message}.{ListenFailureHint(code, IsWindows, current)}", ex);
            }
            _accepting = Task.Run(AcceptAsync);
        }

        private static bool IsWindows => Environment.OSVersion.Platform == PlatformID.Win32NT;

        /// <summary>What to do about a failed bind, by the operating system's error code (pure, so every platform's answer is tested).</summary>
        internal static string ListenFailureHint(int errorCode, bool windows, string prefix)
        {
            if (windows && errorCode == 5)
                return $" An account that is not an administrator needs a URL reservation for the prefix first, made once from an elevated prompt: netsh http add urlacl url={prefix} user=DOMAIN\\user";
            if ((windows && (errorCode == 32 || errorCode == 183)) || (!windows && (errorCode == 98 || errorCode == 48 || errorCode == (int)SocketError.AddressAlreadyInUse)))
                return " Another program (or another receiver) is using it: stop that one, or choose another port or path.";
            if (!windows && (errorCode == 13 || errorCode == (int)SocketError.AccessDenied))
                return " Ports below 1024 need root: use a higher port behind a reverse proxy.";
            return string.Empty;
        }

        internal static NenErrorCategory ListenFailureCategory(int errorCode, bool windows) =>
            (windows && errorCode == 5) || (!windows && (errorCode == 13 || errorCode == (int)SocketError.AccessDenied))
                ? NenErrorCategory.PermissionDenied
                : NenErrorCategory.ResourceUnavailable;

        private async Task AcceptAsync()
        {
            while (Volatile.Read(ref _stopped) == 0)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpListenerException || ex is ObjectDisposedException || ex is InvalidOperationException)
                {
                    if (Volatile.Read(ref _stopped) != 0) return;
                    _log.Debug($"Taking a request failed ({ex.GetType().Name}: {ex.Message}); listening on.");
                    continue;
                }
                _counters.Count(WebhookEvent.Request);
                if (!_memory.TryTake(RequestMemoryBudget.RequestOverheadBytes))
                {
                    Busy(context);
                    continue;
                }
                _inProgress[context] = 0;
                if (Volatile.Read(ref _stopped) != 0) Drop(context); // taken while the stop dropped the others
                _ = HandleAsync(context, new Charge(_memory, RequestMemoryBudget.RequestOverheadBytes));
            }
        }

        /// <summary>What one request holds of the memory budget; given back, all of it and once, when the request ends.</summary>
        private sealed class Charge
        {
            private readonly RequestMemoryBudget _budget;
            private long _bytes;
            private bool _returned;

            public Charge(RequestMemoryBudget budget, long taken)
            {
                _budget = budget;
                _bytes = taken;
            }

            /// <summary>False when the budget has no room, or the request has ended (a read still going after its 408).</summary>
            public bool TryTake(long bytes)
            {
                lock (this)
                {
                    if (_returned || !_budget.TryTake(bytes)) return false;
                    _bytes += bytes;
                    return true;
                }
            }

            public void GiveBack()
            {
                lock (this)
                {
                    if (_returned) return;
                    _returned = true;
                    _budget.Give(_bytes);
                }
            }
        }

        private void Busy(HttpListenerContext context)
        {
            _counters.Count(WebhookEvent.Busy);
            context.Response.AddHeader("Retry-After", "1");
            Answer(context, 503, close: true);
        }

        private async Task HandleAsync(HttpListenerContext context, Charge charge)
        {
            try
            {
                await Task.Yield(); // off the accept loop at once
                HttpListenerRequest request = context.Request;
                string from = request.RemoteEndPoint?.ToString() ?? "an unknown client";
                if (!string.Equals(request.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase))
                {
                    _counters.Count(WebhookEvent.NotAllowed);
                    context.Response.AddHeader("Allow", "POST");
                    Answer(context, 405, close: true);
                    return;
                }
                if (request.ContentLength64 > _options.MaxBodyBytes)
                {
                    TooLarge(context, from, request.ContentLength64);
                    return;
                }
                byte[]? body = await ReadBodyAsync(context, from, charge).ConfigureAwait(false);
                if (body is null) return; // answered (408, 413, 503) or dropped
                await VerifyAsync(context, from, body).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                // The client went away, or the receiver stopped: nothing to answer.
                _counters.Count(WebhookEvent.Abandoned);
                Abort(context);
            }
            catch (Exception ex)
            {
                // Nothing a request does may end in a task nobody observes: the request is dropped (never a 200) and said so.
                _counters.Count(WebhookEvent.Abandoned);
                _log.Debug($"A request failed unexpectedly ({ex.GetType().Name}: {ex.Message}); it was dropped.");
                Abort(context);
            }
            finally
            {
                charge.GiveBack();
                _inProgress.TryRemove(context, out _);
            }
        }

        /// <summary>The body, or null when the request was answered (too large, too slow, no memory) or dropped (client gone).</summary>
        private async Task<byte[]?> ReadBodyAsync(HttpListenerContext context, string from, Charge charge)
        {
            Task<(byte[]? Body, int Refusal)> read = CopyBodyAsync(context.Request.InputStream, context.Request.ContentLength64, charge);
            // HttpListener's body stream ignores cancellation: the request is timed out from outside, and dropping
            // the connection ends the read.
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                Task expired = Task.Delay(_options.BodyTimeout, timeout.Token);
                if (await Task.WhenAny(read, expired).ConfigureAwait(false) != read)
                {
                    _counters.Count(WebhookEvent.Abandoned);
                    _ = read.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    if (Volatile.Read(ref _stopped) != 0) return null; // the stop dropped it: no 408 to answer or tell of
                    _log.Verbose($"Dropped a delivery from {from}: its body did not arrive within {_options.BodyTimeout.TotalSeconds:0.#} s (408).");
                    Answer(context, 408, close: true); // closing the connection ends the pending read
                    return null; // the charge is given back now; the read, if it goes on, can take no more
                }
                timeout.Cancel();
            }
            (byte[]? body, int refusal) = await read.ConfigureAwait(false);
            if (refusal == 413) TooLarge(context, from, null);
            else if (refusal == 503) Busy(context);
            return body;
        }

        /// <summary>
        /// Reads the body into a buffer that starts at most <see cref="InitialBodyBuffer"/> and doubles only when the bytes
        /// that arrived fill it, each step counted against the memory budget; 413 as soon as it grows past the limit (a
        /// chunked body declares no length), 503 when the budget has no room for it.
        /// </summary>
        private async Task<(byte[]? Body, int Refusal)> CopyBodyAsync(Stream input, long declared, Charge charge)
        {
            if (declared == 0) return (Array.Empty<byte>(), 0);
            long limit = _options.MaxBodyBytes + 1L; // one byte past the limit tells a body that is too large
            int size = (int)Math.Min(declared > 0 ? declared : InitialBodyBuffer, InitialBodyBuffer);
            if (!charge.TryTake(size)) return (null, 503);
            byte[] buffer = new byte[size];
            int length = 0;
            while (declared < 0 || length < declared)
            {
                if (length == buffer.Length)
                {
                    int grown = (int)Math.Min(Math.Min(buffer.Length * 2L, declared > 0 ? declared : limit), limit);
                    if (!charge.TryTake(grown - buffer.Length)) return (null, 503);
                    Array.Resize(ref buffer, grown);
                }
                int n = await input.ReadAsync(buffer, length, buffer.Length - length).ConfigureAwait(false);
                if (n == 0) break;
                length += n;
                if (length > _options.MaxBodyBytes) return (null, 413);
            }
            if (length != buffer.Length) Array.Resize(ref buffer, length);
            return (buffer, 0);
        }

        private void TooLarge(HttpListenerContext context, string from, long? declared)
        {
            _counters.Count(WebhookEvent.TooLarge);
            _log.Verbose($"Refused a delivery from {from}: its body {(declared.HasValue ? $"of {declared.Value} bytes " : string.Empty)}is larger than {_options.MaxBodyBytes} bytes (413).");
            Answer(context, 413, close: true); // closing the connection: the rest of the body is never read
        }

        private async Task VerifyAsync(HttpListenerContext context, string from, byte[] body)
        {
            WebhookVerification check = WebhookSignature.Verify(body, context.Request.Headers[WebhookSignature.HeaderName], _options.Secrets);
            if (!check.IsValid)
            {
                _counters.Count(WebhookEvent.Refused);
                _log.Verbose($"Refused a delivery from {from}: {check.Reason} (401).");
                if (Interlocked.Exchange(ref _refusalWarned, 1) == 0)
                    _log.Warning($"A delivery from {from} was refused (401): {check.Reason} If every delivery is refused, check the webhook secret (-WebhookSecret or NEN_WEBHOOK_SECRET).");
                Answer(context, 401, close: false);
                return;
            }
            string? problem;
            RunSnapshot? status;
            try
            {
                status = WebhookUpdate.Read(Encoding.UTF8.GetString(body), DateTimeOffset.UtcNow, out problem);
            }
            catch (Exception ex) when (ex is JsonException || ex is ArgumentException)
            {
                (status, problem) = (null, "it is not JSON");
            }
            if (status is null)
            {
                // Not acknowledged as an update (a 200 would tell the sender it is in hand) and never kept or written.
                _counters.Count(WebhookEvent.Malformed);
                Answer(context, 400, close: false);
                _onProblem(new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    $"A correctly signed webhook from {from} is not a run update ({problem}; one needs a message_id and a status, both strings); it was answered 400 and not acted on."));
                return;
            }
            // Taken in first, then acknowledged: a sender that has its 200 knows the update is in hand (on the disk,
            // with -StatePath), and one that never gets it sends again, which the ledger de-duplicates.
            DeliveryAnswer answer = _onUpdate(status);
            NenException? failure = answer.Failure;
            if (answer.Durable != null && failure is null)
            {
                try
                {
                    await answer.Durable.ConfigureAwait(false);
                }
                catch (NenException ex)
                {
                    failure = ex;
                }
            }
            if (failure != null)
            {
                // Not on the disk: no 200, so the sender sends it again (to this receiver once it is fixed, or another).
                // The receiver is told once the 500 is out, so its stop cannot cut this answer off.
                _log.Verbose($"A delivery from {from} was answered 500: {failure.Message}");
                Answer(context, 500, close: true);
                answer.WhenNotRecorded?.Invoke(failure);
                return;
            }
            if (answer.Status == 200) _counters.Count(WebhookEvent.Accepted);
            if (answer.RetryAfterSeconds is int seconds) context.Response.AddHeader("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Answer(context, answer.Status, close: answer.Status != 200);
        }

        /// <summary>Answers the request, unless the listener is stopping: then the stop drops it (see <see cref="Stop"/>).</summary>
        private void Answer(HttpListenerContext context, int status, bool close)
        {
            if (Volatile.Read(ref _stopped) != 0) return;
            try
            {
                HttpListenerResponse response = context.Response;
                response.StatusCode = status;
                if (close) response.KeepAlive = false;
                response.ContentLength64 = 0;
                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                Abort(context);
            }
        }

        /// <summary>Drops the connection, unless the listener is stopping: then the stop drops it (see <see cref="Stop"/>).</summary>
        private void Abort(HttpListenerContext context)
        {
            if (Volatile.Read(ref _stopped) == 0) Drop(context);
        }

        /// <summary>Drops the connection. The managed HttpListener still writes a status line if none was sent, so it is never a 200.</summary>
        private static void Drop(HttpListenerContext context)
        {
            try
            {
                context.Response.StatusCode = 500;
                context.Response.KeepAlive = false;
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException) { }
            try { context.Response.Abort(); }
            catch (Exception ex) when (ex is HttpListenerException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException) { }
        }

        /// <summary>Stops listening and frees every prefix at once; requests in progress are dropped. Idempotent, any thread.</summary>
        /// <remarks>
        /// The requests in progress are dropped here first, never with a 200 (<see cref="Drop"/>), and from then on their
        /// handlers leave them alone. Left to HttpListener's Close, the managed listener answered them with the status they
        /// had (200 unless set: a sender then never sends again an update whose body never came, or that was not on the
        /// disk yet), and tried to read the rest of each body first, waiting for a client that stalled in it while holding
        /// the lock that every request the handlers end needs: 30 stalled clients held the stop for 15 s, and 200 blocked
        /// a thread-pool thread each for a minute.
        /// </remarks>
        public void Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            try { _stopping.Cancel(); }
            catch (ObjectDisposedException) { }
            foreach (HttpListenerContext context in _inProgress.Keys) Drop(context);
            try { _listener.Close(); }
            catch (Exception ex) when (ex is HttpListenerException || ex is ObjectDisposedException) { }
        }

        /// <summary>Completes when the accept loop has ended (after <see cref="Stop"/>).</summary>
        public Task WhenStopped => _accepting ?? Task.CompletedTask;

        public void Dispose()
        {
            Stop();
            try { _ = WhenStopped.Wait(TimeSpan.FromSeconds(5)); }
            catch (AggregateException) { }
            _stopping.Dispose();
        }
    }
}
