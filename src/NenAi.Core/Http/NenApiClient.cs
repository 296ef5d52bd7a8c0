using System;
using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
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

        public NenApiClient(NenClientOptions options, INenLog? log = null, Func<DateTimeOffset>? clock = null)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.ApiKey is null) throw new NenException(NenErrorIds.MissingApiKey, NenErrorCategory.InvalidArgument, "No Nen API key is configured.");
            _http = HttpClientPool.Get(options);
            _log = RedactingLog.Wrap(log);
            _logging = !(log is null || log is NullLog);
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
        }

        public NenClientOptions Options { get; }

        public Uri RunsUri => new Uri(Options.BaseUri, RunsPath);

        public Uri RunUri(string messageId) => new Uri(Options.BaseUri, RunsPath + "/" + Uri.EscapeDataString(messageId));

        /// <summary>
        /// POST /runs. Retried only when the server provably did not accept the run (connection refused,
        /// 429, 503); an ambiguous failure throws <see cref="NenOutcomeUnknownException"/>.
        /// </summary>
        public async Task<RunAccepted> StartRunAsync(RunRequest request, CancellationToken cancellationToken = default)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            if (request.SecureParameters.Count > 0 && Options.SigningKey is null)
            {
                throw new NenException(NenErrorIds.SigningKeyRequired, NenErrorCategory.SecurityError,
                    $"Secure parameters travel only in HMAC-signed requests, and no signing key is configured. Pass -SigningKey or set {EnvironmentVariables.SigningKey}.");
            }

            using ZeroingBufferWriter body = RunRequestSerializer.Serialize(request);
            Uri uri = RunsUri;
            var budget = NewBudget();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                NenException failure;
                try
                {
                    using HttpResponseMessage response = await SendAsync(HttpMethod.Post, uri, body.Buffer, body.WrittenCount, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
                    string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                    int code = (int)response.StatusCode;
                    if (code >= 200 && code < 300) return ParseAccepted(text, request);

                    TimeSpan? retryAfter = RetryAfter.Read(response, _clock());
                    failure = ApiErrorMapper.Map(response.StatusCode, text, retryAfter, "Starting the run");
                    bool provablyRejected = code == 429 || code == 503;
                    if (!provablyRejected)
                    {
                        if (code >= 500)
                        {
                            throw new NenOutcomeUnknownException(
                                $"The server answered HTTP {code} after receiving the run request, so it may or may not have started the run. It was not resubmitted, to avoid starting it twice. Idempotency-Key: {request.IdempotencyKey}.",
                                request.IdempotencyKey, failure) { StatusCode = response.StatusCode };
                        }
                        throw failure;
                    }
                }
                catch (NenTransportException ex) when (ex.ProvablyNotSent)
                {
                    failure = ex;
                }
                catch (NenTransportException ex)
                {
                    throw new NenOutcomeUnknownException(
                        $"{ex.Message} The request may have reached the server, so it was not resubmitted, to avoid starting the run twice. Idempotency-Key: {request.IdempotencyKey}.",
                        request.IdempotencyKey, ex);
                }

                if (!budget.TryNext(failure.RetryAfter, out TimeSpan delay)) throw failure;
                _log.Verbose($"POST {Redactor.Url(uri)}: {failure.ErrorId}; the run was provably not accepted, retrying in {delay.TotalMilliseconds:0} ms (retry {budget.RetriesUsed}).");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>GET /runs/{messageId}; retried on network errors, timeouts, 408, 429 and 5xx.</summary>
        public async Task<RunStatus> GetRunAsync(string messageId, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(messageId))
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            Uri uri = RunUri(messageId.Trim());
            var budget = NewBudget();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                NenException failure;
                try
                {
                    using HttpResponseMessage response = await SendAsync(HttpMethod.Get, uri, null, 0, null, cancellationToken).ConfigureAwait(false);
                    string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        try
                        {
                            RunStatus status = RunStatus.Parse(text, messageId.Trim(), _clock());
                            status.PollAfter = RetryAfter.Read(response, _clock());
                            return status;
                        }
                        catch (JsonException ex)
                        {
                            throw new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                                $"The status of run {messageId} is not the JSON object expected.", ex) { StatusCode = response.StatusCode };
                        }
                    }
                    failure = ApiErrorMapper.Map(response.StatusCode, text, RetryAfter.Read(response, _clock()), $"Getting run {messageId}");
                    if (!failure.IsTransient) throw failure;
                }
                catch (NenTransportException ex)
                {
                    failure = ex;
                }
                if (!budget.TryNext(failure.RetryAfter, out TimeSpan delay)) throw failure;
                _log.Verbose($"GET {Redactor.Url(uri)}: {failure.ErrorId}, retrying in {delay.TotalMilliseconds:0} ms (retry {budget.RetriesUsed}).");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Opens a presigned download. No Nen header is sent: the URL carries its own signature.
        /// <paramref name="rangeStart"/> &gt; 0 asks for the rest of a partial file.
        /// </summary>
        public async Task<HttpResponseMessage> OpenDownloadAsync(Uri url, long rangeStart, CancellationToken cancellationToken)
        {
            if (url is null || !url.IsAbsoluteUri) throw new ArgumentException("A presigned URL must be absolute.", nameof(url));
            if (url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback && !Options.AllowInsecureHttp)
                throw new NenException(NenErrorIds.InsecureBaseUri, NenErrorCategory.SecurityError, $"Refusing to download over plain http:// from '{url.Host}'.");
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (rangeStart > 0) request.Headers.Range = new RangeHeaderValue(rangeStart, null);
            var sw = Stopwatch.StartNew();
            try
            {
                HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (_logging) _log.Verbose($"GET {Redactor.Url(url)} → {(int)response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                return response;
            }
            catch (HttpRequestException ex)
            {
                throw new NenTransportException($"Downloading {Redactor.Url(url)} failed: {TransportFailure.Describe(ex)}.", TransportFailure.IsProvablyNotSent(ex), ex);
            }
        }

        private RetryBudget NewBudget() => new RetryBudget(Options.MaximumRetryCount, Options.MaximumRetryDuration, Options.RetryBaseDelay);

        /// <summary>One attempt: builds, signs and sends; transport failures and our timeout become <see cref="NenTransportException"/>.</summary>
        private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, byte[]? body, int bodyLength, string? idempotencyKey, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.TryAddWithoutValidation(RequestSigner.ApiKeyHeader, Options.ApiKey.RevealForHeader());
            if (idempotencyKey != null) request.Headers.TryAddWithoutValidation(IdempotencyHeader, idempotencyKey);
            if (body != null)
            {
                request.Content = new ByteArrayContent(body, 0, bodyLength);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            if (Options.SigningKey != null)
            {
                string timestamp = RequestSigner.UnixSeconds(_clock());
                string bodyHash = RequestSigner.BodyHash(body ?? EmptyBody, body is null ? 0 : bodyLength);
                string canonical = RequestSigner.CanonicalRequest(method.Method, uri.AbsolutePath, timestamp, bodyHash);
                request.Headers.TryAddWithoutValidation(RequestSigner.TimestampHeader, timestamp);
                request.Headers.TryAddWithoutValidation(RequestSigner.SignatureHeader, RequestSigner.Sign(Options.SigningKey, canonical));
            }

            if (_logging) _log.Debug($"{method.Method} {Redactor.Url(uri)}: {bodyLength} body bytes, {(Options.SigningKey != null ? "signed" : "not signed")}, API key sent (value hidden).");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.Timeout);
            var sw = Stopwatch.StartNew();
            try
            {
                HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (_logging) _log.Verbose($"{method.Method} {Redactor.Url(uri)} → {(int)response.StatusCode} {response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                return response;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex)
            {
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} timed out after {Options.Timeout.TotalSeconds:0.#} s.", provablyNotSent: false, ex,
                    NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
            }
            catch (HttpRequestException ex)
            {
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} failed: {TransportFailure.Describe(ex)}.", TransportFailure.IsProvablyNotSent(ex), ex);
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
