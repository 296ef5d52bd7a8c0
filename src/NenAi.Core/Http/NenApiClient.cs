using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Logging;
using NenAi.Core.Models;
using NenAi.Core.Signing;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The one signed HTTP core behind every cmdlet: POST /runs, GET /runs/{id} and presigned downloads,
    /// with signing, retries per spec §11, typed errors and redacted logging.
    /// </summary>
    public sealed class NenApiClient
    {
        /// <summary>The retrieval endpoint lives here and nowhere else (spec §11 Q1).</summary>
        public const string RunsPath = "runs";
        public const string IdempotencyHeader = "Idempotency-Key";
        private const int MaxErrorBodyChars = 64 * 1024;
        private static readonly byte[] EmptyBody = new byte[0];

        private readonly HttpClient _http;
        private readonly INenLog _log;
        /// <summary>False when nobody listens: per-request log lines are then not even formatted (hot path).</summary>
        private readonly bool _logging;
        private readonly Func<DateTimeOffset> _clock;
        private Uri? _runsUri;
        /// <summary>Scrubs the keys from any text the server sends back.</summary>
        private readonly SecretScrubber _keys;

        public NenApiClient(NenClientOptions options, INenLog? log = null, Func<DateTimeOffset>? clock = null)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.ApiKey is null) throw new NenException(NenErrorIds.MissingApiKey, NenErrorCategory.InvalidArgument, "No Nen API key is configured.");
            _http = HttpClientPool.Get(options);
            _log = RedactingLog.Wrap(log);
            _logging = !(log is null || log is NullLog);
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
            _keys = new SecretScrubber(new[] { options.ApiKey, options.SigningKey });
        }

        public NenClientOptions Options { get; }

        /// <summary>POST /runs; made once, not per row.</summary>
        public Uri RunsUri => _runsUri ??= new Uri(Options.BaseUri, RunsPath);

        public Uri RunUri(string messageId) => new Uri(Options.BaseUri, RunsPath + "/" + Uri.EscapeDataString(messageId));

        /// <summary>
        /// POST /runs. Retried only when the server provably did not accept the run (429, 503, or the request never
        /// left: no connection, a failed TLS handshake or proxy tunnel, a body that was never written in full), through
        /// <paramref name="gate"/>, which a batch shares so one throttle pauses every row. An ambiguous failure throws
        /// <see cref="NenOutcomeUnknownException"/>; a row the batch stopped before sending, <see cref="NenNotSentException"/>.
        /// </summary>
        public async Task<RunAccepted> StartRunAsync(RunRequest request, CancellationToken cancellationToken = default, ThrottleGate? gate = null)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            if (request.SecureParameters.Count > 0 && Options.SigningKey is null)
            {
                throw new NenException(NenErrorIds.SigningKeyRequired, NenErrorCategory.SecurityError,
                    $"Secure parameters travel only in HMAC-signed requests, and no signing key is configured. Pass -SigningKey or set {EnvironmentVariables.SigningKey}.");
            }

            using ZeroingBufferWriter body = RunRequestSerializer.Serialize(request);
            gate ??= ThrottleGate.For(Options);
            var rowBudget = NewBudget(); // this row's own retries; the gate bounds the batch
            var scrubber = new SecretScrubber(Secrets(request));
            Uri uri = RunsUri;
            while (true)
            {
                Admission admission;
                try
                {
                    admission = await gate.EnterAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex)
                {
                    throw NenNotSentException.Stopped(ex); // stopped while waiting its turn: nothing of this row left
                }
                var content = new TrackedBody(body.Buffer, body.WrittenCount);
                NenException throttle;
                bool settled = false;
                try
                {
                    using HttpResponseMessage response = await SendAsync(HttpMethod.Post, uri, content, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
                    string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                    int code = (int)response.StatusCode;
                    if (code == 429 || code == 503)
                    {
                        throttle = ApiErrorMapper.Map(response.StatusCode, text, RetryAfter.Read(response, _clock()), "Starting the run", scrubber, Options.BaseUri);
                    }
                    else
                    {
                        gate.Answered(admission);
                        settled = true;
                        if (code >= 200 && code < 300) return ParseAccepted(text, request);
                        NenException failure = ApiErrorMapper.Map(response.StatusCode, text, RetryAfter.Read(response, _clock()), "Starting the run", scrubber, Options.BaseUri);
                        if (code >= 500)
                        {
                            throw new NenOutcomeUnknownException(
                                $"The server answered HTTP {code} after receiving the run request, so it may or may not have started the run. It was not resubmitted, to avoid starting it twice. Idempotency-Key: {request.IdempotencyKey}.",
                                request.IdempotencyKey, failure) { StatusCode = response.StatusCode };
                        }
                        throw failure;
                    }
                }
                catch (NenTransportException ex) when (!settled && (ex.ProvablyNotSent || !content.Written))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        gate.Abandoned(admission);
                        throw NenNotSentException.Stopped(ex);
                    }
                    throttle = ex.ProvablyNotSent ? ex
                        : new NenTransportException(ex.Message + (ex.ErrorId == NenErrorIds.Timeout
                            ? " The request never left: no connection took it in time (the server did not accept a connect, or every connection was busy), so no run can have started."
                            : " The request body was never sent in full, so no run can have started."), provablyNotSent: true, ex, ex.ErrorId, ex.Category);
                }
                catch (NenTransportException ex) when (!settled)
                {
                    gate.Abandoned(admission);
                    throw new NenOutcomeUnknownException(
                        $"{ex.Message} The request may have reached the server, so it was not resubmitted, to avoid starting the run twice. Idempotency-Key: {request.IdempotencyKey}.",
                        request.IdempotencyKey, ex);
                }
                catch (OperationCanceledException ex) when (!settled)
                {
                    gate.Abandoned(admission);
                    if (!content.Written) throw NenNotSentException.Stopped(ex);
                    throw;
                }
                catch when (!settled)
                {
                    gate.Abandoned(admission);
                    throw;
                }

                NenException? stop = gate.Throttled(admission, throttle.RetryAfter, throttle);
                if (stop != null) throw stop;
                if (!rowBudget.TryNext(throttle.RetryAfter, out _)) throw Exhausted(throttle, rowBudget);
                if (_logging) _log.Verbose($"POST {Redactor.Url(uri)}: {throttle.ErrorId}; the run was provably not accepted. The batch pauses, then sends it again (retry {rowBudget.RetriesUsed}).");
            }
        }

        /// <summary>
        /// GET /runs/{messageId}. 429/503 and unreachable servers pause through <paramref name="gate"/> (shared by a
        /// waiter's polls); network errors, timeouts, 408 and 5xx are retried within this call's own budget.
        /// </summary>
        public async Task<RunStatus> GetRunAsync(string messageId, CancellationToken cancellationToken = default, ThrottleGate? gate = null)
        {
            string id = MessageIds.Check(messageId);
            Uri uri = RunUri(id);
            gate ??= ThrottleGate.For(Options);
            var budget = NewBudget();
            while (true)
            {
                Admission admission = await gate.EnterAsync(cancellationToken).ConfigureAwait(false);
                NenException failure;
                bool settled = false;
                try
                {
                    using HttpResponseMessage response = await SendAsync(HttpMethod.Get, uri, null, null, cancellationToken).ConfigureAwait(false);
                    string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                    int code = (int)response.StatusCode;
                    TimeSpan? retryAfter = RetryAfter.Read(response, _clock());
                    if (code == 429 || code == 503)
                    {
                        failure = ApiErrorMapper.Map(response.StatusCode, text, retryAfter, $"Getting run {id}", _keys, Options.BaseUri);
                        settled = true;
                        NenException? stop = gate.Throttled(admission, retryAfter, failure);
                        if (stop != null) throw stop;
                        if (!budget.TryNext(retryAfter, out _)) throw Exhausted(failure, budget);
                        continue; // the gate's pause is the wait
                    }
                    gate.Answered(admission);
                    settled = true;
                    if (response.IsSuccessStatusCode) return ParseStatus(text, id, retryAfter, response.StatusCode);
                    failure = ApiErrorMapper.Map(response.StatusCode, text, retryAfter, $"Getting run {id}", _keys, Options.BaseUri);
                    if (!failure.IsTransient) throw failure;
                }
                catch (NenTransportException ex) when (!settled && ex.ProvablyNotSent && !cancellationToken.IsCancellationRequested)
                {
                    settled = true;
                    NenException? stop = gate.Throttled(admission, null, ex);
                    if (stop != null) throw stop;
                    if (!budget.TryNext(null, out _)) throw Exhausted(ex, budget);
                    continue;
                }
                catch (NenTransportException ex) when (!settled)
                {
                    gate.Abandoned(admission);
                    failure = ex;
                }
                catch when (!settled)
                {
                    gate.Abandoned(admission);
                    throw;
                }
                if (!budget.TryNext(failure.RetryAfter, out TimeSpan delay)) throw failure;
                if (_logging) _log.Verbose($"GET {Redactor.Url(uri)}: {failure.ErrorId}, retrying in {delay.TotalMilliseconds:0} ms (retry {budget.RetriesUsed}).");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Any value the server sends is parsed defensively: an unreadable status is a typed error, never a hang.</summary>
        private RunStatus ParseStatus(string text, string messageId, TimeSpan? retryAfter, HttpStatusCode code)
        {
            try
            {
                RunStatus status = RunStatus.Parse(text, messageId, _clock());
                status.PollAfter = retryAfter;
                return status;
            }
            catch (Exception ex) when (ex is JsonException || ex is ArgumentException || ex is FormatException || ex is OverflowException || ex is InvalidOperationException)
            {
                throw new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    $"The status of run {messageId} is not the JSON object expected ({ex.GetType().Name}).", ex) { StatusCode = code };
            }
        }

        /// <summary>The secrets a request carries, which the server must not be quoted back with.</summary>
        private IEnumerable<SecretValue?> Secrets(RunRequest request)
        {
            yield return Options.ApiKey;
            yield return Options.SigningKey;
            foreach (var p in request.SecureParameters) yield return p.Value;
        }

        /// <summary>
        /// Opens a presigned download and returns once the headers are in (within the request timeout). No Nen header
        /// is sent: the URL carries its own signature. Redirects are followed here (at most five, never from https to
        /// plain http), so storage behind a redirect works and nothing of ours travels along. <paramref name="rangeStart"/>
        /// &gt; 0 asks for the rest of a partial file, only if it is still the same file when <paramref name="ifRange"/>
        /// (its ETag or Last-Modified) is given.
        /// </summary>
        public async Task<HttpResponseMessage> OpenDownloadAsync(Uri url, long rangeStart, string? ifRange, CancellationToken cancellationToken)
        {
            if (url is null || !url.IsAbsoluteUri) throw new ArgumentException("A presigned URL must be absolute.", nameof(url));
            Uri current = url;
            for (int hop = 0; ; hop++)
            {
                if (current.Scheme == Uri.UriSchemeHttp && !current.IsLoopback && !Options.AllowInsecureHttp)
                    throw new NenException(NenErrorIds.InsecureBaseUri, NenErrorCategory.SecurityError, $"Refusing to download over plain http:// from '{current.Host}'.");
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                if (rangeStart > 0)
                {
                    request.Headers.Range = new RangeHeaderValue(rangeStart, null);
                    RangeConditionHeaderValue? condition = DownloadValidator.ToIfRange(ifRange);
                    if (condition != null) request.Headers.IfRange = condition;
                }
                var sw = Stopwatch.StartNew();
                HttpResponseMessage response;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(Options.Timeout);
                    try
                    {
                        response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (OperationCanceledException ex)
                    {
                        throw new NenTransportException($"Downloading {Redactor.Url(current)} timed out after {Options.Timeout.TotalSeconds:0.#} s waiting for an answer.", provablyNotSent: false, ex,
                            NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
                    }
                    catch (HttpRequestException ex)
                    {
                        throw new NenTransportException($"Downloading {Redactor.Url(current)} failed: {TransportFailure.Describe(ex)}.", TransportFailure.IsProvablyNotSent(ex), ex);
                    }
                }
                if (_logging) _log.Verbose($"GET {Redactor.Url(current)} -> {(int)response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                int code = (int)response.StatusCode;
                if (code < 300 || code > 308 || code == 304 || response.Headers.Location is null) return response;

                Uri next = response.Headers.Location.IsAbsoluteUri ? response.Headers.Location : new Uri(current, response.Headers.Location);
                response.Dispose();
                if (hop >= MaxRedirects)
                    throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ProtocolError, $"Downloading {Redactor.Url(url)} was redirected more than {MaxRedirects} times.");
                if (current.Scheme == Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttps)
                    throw new NenException(NenErrorIds.InsecureBaseUri, NenErrorCategory.SecurityError, $"Refusing a redirect of a download from https:// to {Redactor.Url(next)}.");
                current = next;
            }
        }

        private const int MaxRedirects = 5;

        /// <summary>The refusal that used up a request's own retries, saying so.</summary>
        private static NenException Exhausted(NenException last, RetryBudget budget) =>
            last.WithMessage($"{last.Message} Gave up after {budget.RetriesUsed} retr{(budget.RetriesUsed == 1 ? "y" : "ies")}.");

        private RetryBudget NewBudget() => new RetryBudget(Options.MaximumRetryCount, Options.MaximumRetryDuration, Options.RetryBaseDelay);

        /// <summary>One attempt: builds, signs and sends; transport failures and our timeout become <see cref="NenTransportException"/>.</summary>
        private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, TrackedBody? content, string? idempotencyKey, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.TryAddWithoutValidation(RequestSigner.ApiKeyHeader, Options.ApiKey.RevealForHeader());
            if (idempotencyKey != null) request.Headers.TryAddWithoutValidation(IdempotencyHeader, idempotencyKey);
            if (content != null)
            {
                request.Content = content;
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            if (Options.SigningKey != null)
            {
                string timestamp = RequestSigner.UnixSeconds(_clock());
                string bodyHash = RequestSigner.BodyHash(content?.Bytes ?? EmptyBody, content?.Count ?? 0);
                string canonical = RequestSigner.CanonicalRequest(method.Method, uri.AbsolutePath, timestamp, bodyHash);
                request.Headers.TryAddWithoutValidation(RequestSigner.TimestampHeader, timestamp);
                request.Headers.TryAddWithoutValidation(RequestSigner.SignatureHeader, RequestSigner.Sign(Options.SigningKey, canonical));
            }

            if (_logging) _log.Debug($"{method.Method} {Redactor.Url(uri)}: {content?.Count ?? 0} body bytes, {(Options.SigningKey != null ? "signed" : "not signed")}, API key sent (value hidden).");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.Timeout);
            var sw = Stopwatch.StartNew();
            try
            {
                HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (_logging) _log.Verbose($"{method.Method} {Redactor.Url(uri)} -> {(int)response.StatusCode} {response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                return response;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex) when (TransportFailure.IsProvablyNotSent(ex))
            {
                // Our timeout struck while still connecting: nothing left.
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} failed: {TransportFailure.Describe(ex)}. Nothing was sent.", provablyNotSent: true, ex,
                    NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
            }
            catch (OperationCanceledException ex)
            {
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} timed out after {Options.Timeout.TotalSeconds:0.#} s.", provablyNotSent: false, ex,
                    NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
            }
            catch (HttpRequestException ex)
            {
                bool notSent = TransportFailure.IsProvablyNotSent(ex);
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} failed: {TransportFailure.Describe(ex)}.{(notSent ? " Nothing was sent." : string.Empty)}", notSent, ex);
            }
        }

        private static async Task<string> ReadTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
        {
            try
            {
#if NETFRAMEWORK
                string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
#else
                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
#endif
                return response.IsSuccessStatusCode || text.Length <= MaxErrorBodyChars ? text : text.Substring(0, MaxErrorBodyChars);
            }
            catch (HttpRequestException ex)
            {
                throw new NenTransportException($"Reading the answer failed: {TransportFailure.Describe(ex)}.", provablyNotSent: false, ex);
            }
        }

        private RunAccepted ParseAccepted(string text, RunRequest request)
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                JsonElement root = doc.RootElement;
                string? messageId = root.TryGetProperty("messageId", out JsonElement m) ? m.GetString()
                    : root.TryGetProperty("message_id", out JsonElement m2) ? m2.GetString() : null;
                if (string.IsNullOrWhiteSpace(messageId)) throw new JsonException("no messageId");
                string workflowId = root.TryGetProperty("workflowId", out JsonElement w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : request.WorkflowId;
                string? message = root.TryGetProperty("message", out JsonElement msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString() : null;
                return new RunAccepted(messageId!, workflowId, message, _clock(), text);
            }
            catch (Exception ex) when (ex is JsonException || ex is InvalidOperationException)
            {
                // The server said yes but we cannot tell which run: that is an unknown outcome, not a failure.
                throw new NenOutcomeUnknownException(
                    $"The server accepted the run but its answer carried no readable messageId. Idempotency-Key: {request.IdempotencyKey}.",
                    request.IdempotencyKey, ex);
            }
        }
    }
}
