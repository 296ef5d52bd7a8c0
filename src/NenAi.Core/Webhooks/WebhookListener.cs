using System;
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
    /// request is handled on its own, at most <see cref="WebhookListenerOptions.MaxConcurrentDeliveries"/> at once
    /// (beyond that: 503 at once), so a slow or hostile client never holds up another delivery: not a POST → 405;
    /// a declared body past the limit → 413 without reading it; a body that does not arrive within
    /// <see cref="WebhookListenerOptions.BodyTimeout"/> → 408 and the connection is closed; a bad or missing signature
    /// → 401; a signed body that is not a run status → 400 and <c>onProblem</c>; a verified update →
    /// <c>onUpdate</c> and 200, right away (the sender's budget is 5 s; what is done with the update happens later).
    /// </summary>
    public sealed class WebhookListener : IDisposable
    {
        private readonly WebhookListenerOptions _options;
        private readonly Action<RunSnapshot> _onUpdate;
        private readonly Action<NenException> _onProblem;
        private readonly WebhookCounters _counters;
        private readonly INenLog _log;
        private readonly HttpListener _listener = new HttpListener { IgnoreWriteExceptions = true };
        private readonly SemaphoreSlim _slots;
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private int _stopped;
        private int _refusalWarned;

        public WebhookListener(WebhookListenerOptions options, Action<RunSnapshot> onUpdate, Action<NenException> onProblem, WebhookCounters counters, INenLog? log = null)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.Prefixes.Count == 0) throw new ArgumentException("At least one prefix is needed.", nameof(options));
            if (options.Secrets.Count == 0) throw new ArgumentException("At least one webhook secret is needed.", nameof(options));
            if (options.MaxBodyBytes < 1 || options.MaxBodyBytes > WebhookSignature.MaxBodyBytes) throw new ArgumentOutOfRangeException(nameof(options), "The body limit is out of range.");
            if (options.MaxConcurrentDeliveries < 1) throw new ArgumentOutOfRangeException(nameof(options), "At least one delivery must be allowed at a time.");
            _onUpdate = onUpdate;
            _onProblem = onProblem;
            _counters = counters;
            _log = RedactingLog.Wrap(log);
            _slots = new SemaphoreSlim(options.MaxConcurrentDeliveries, options.MaxConcurrentDeliveries);
        }

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
                _listener.Start();
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is SocketException || ex is PlatformNotSupportedException || ex is ArgumentException)
            {
                int code = ex is HttpListenerException h ? h.ErrorCode : ex is SocketException s ? s.ErrorCode : 0;
                string on = _options.Prefixes.Count == 1 ? $"'{Redactor.Redact(current)}'" : "the prefixes " + string.Join(", ", _options.Prefixes);
                throw new NenException(NenErrorIds.WebhookListenFailed, ListenFailureCategory(code, IsWindows),
                    $"Cannot listen on {on}: {ex.Message}.{ListenFailureHint(code, IsWindows, current)}", ex);
            }
            _ = Task.Run(AcceptAsync);
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
                if (!_slots.Wait(0))
                {
                    _counters.Count(WebhookEvent.Busy);
                    context.Response.AddHeader("Retry-After", "1");
                    Answer(context, 503, close: true);
                    continue;
                }
                _ = HandleAsync(context);
            }
        }

        private async Task HandleAsync(HttpListenerContext context)
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
                byte[]? body = await ReadBodyAsync(context, from).ConfigureAwait(false);
                if (body is null) return; // answered (413) or dropped
                Verify(context, from, body);
            }
            catch (Exception ex) when (ex is HttpListenerException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                // The client went away, or the receiver stopped: nothing to answer.
                _counters.Count(WebhookEvent.Abandoned);
                Abort(context);
            }
            finally
            {
                _slots.Release();
            }
        }

        /// <summary>The body, or null when the request was answered (too large) or dropped (too slow, client gone).</summary>
        private async Task<byte[]?> ReadBodyAsync(HttpListenerContext context, string from)
        {
            long declared = context.Request.ContentLength64;
            var buffer = new MemoryStream(declared > 0 ? (int)declared : 4096);
            Task<bool> read = CopyBodyAsync(context.Request.InputStream, buffer);
            // HttpListener's body stream ignores cancellation: the request is timed out from outside, and dropping
            // the connection ends the read.
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                Task expired = Task.Delay(_options.BodyTimeout, timeout.Token);
                if (await Task.WhenAny(read, expired).ConfigureAwait(false) != read)
                {
                    _counters.Count(WebhookEvent.Abandoned);
                    _log.Verbose($"Dropped a delivery from {from}: its body did not arrive within {_options.BodyTimeout.TotalSeconds:0.#} s (408).");
                    Answer(context, 408, close: true); // closing the connection ends the pending read
                    _ = read.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
                    return null;
                }
                timeout.Cancel();
            }
            if (!await read.ConfigureAwait(false))
            {
                TooLarge(context, from, null);
                return null;
            }
            return buffer.ToArray();
        }

        /// <summary>Copies the body; false as soon as it grows past the limit (a chunked body declares no length).</summary>
        private async Task<bool> CopyBodyAsync(Stream body, MemoryStream into)
        {
            byte[] chunk = new byte[16 * 1024];
            int n;
            while ((n = await body.ReadAsync(chunk, 0, chunk.Length).ConfigureAwait(false)) > 0)
            {
                if (into.Length + n > _options.MaxBodyBytes) return false;
                into.Write(chunk, 0, n);
            }
            return true;
        }

        private void TooLarge(HttpListenerContext context, string from, long? declared)
        {
            _counters.Count(WebhookEvent.TooLarge);
            _log.Verbose($"Refused a delivery from {from}: its body {(declared.HasValue ? $"of {declared.Value} bytes " : string.Empty)}is larger than {_options.MaxBodyBytes} bytes (413).");
            Answer(context, 413, close: true); // closing the connection: the rest of the body is never read
        }

        private void Verify(HttpListenerContext context, string from, byte[] body)
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
            RunSnapshot status;
            try
            {
                status = RunSnapshot.Parse(Encoding.UTF8.GetString(body), null, DateTimeOffset.UtcNow);
                if (string.IsNullOrWhiteSpace(status.MessageId)) throw new JsonException("no message_id");
            }
            catch (Exception ex) when (ex is JsonException || ex is ArgumentException)
            {
                _counters.Count(WebhookEvent.Malformed);
                Answer(context, 400, close: false);
                _onProblem(new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    $"A correctly signed webhook from {from} is not the JSON run status expected (it needs a message_id); it was answered 400 and not acted on.", ex));
                return;
            }
            _counters.Count(WebhookEvent.Accepted);
            // Taken in first, then acknowledged: a sender that has its 200 knows the update is in hand (and in order with
            // the ones it sent after), and one that never gets it sends again, which the ledger de-duplicates.
            _onUpdate(status);
            Answer(context, 200, close: false);
        }

        private static void Answer(HttpListenerContext context, int status, bool close)
        {
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

        /// <summary>Drops the connection. The managed HttpListener still writes a status line if none was sent, so it is never a 200.</summary>
        private static void Abort(HttpListenerContext context)
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
        public void Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            try { _stopping.Cancel(); }
            catch (ObjectDisposedException) { }
            try { _listener.Close(); }
            catch (Exception ex) when (ex is HttpListenerException || ex is ObjectDisposedException) { }
        }

        public void Dispose() => Stop();
    }
}
