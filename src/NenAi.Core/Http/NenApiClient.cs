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
        /// <summary>Which proxy a request goes through, so what the proxy answers (or a proxy that cannot be reached) is told as the proxy's.</summary>
        private readonly ProxyRoute _route;
        /// <summary>1 once an API request got a 2xx answer: the proxy in the way (if any) takes our credentials.</summary>
        private int _answeredOk;

        public NenApiClient(NenClientOptions options, INenLog? log = null, Func<DateTimeOffset>? clock = null)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.ApiKey is null) throw new NenException(NenErrorIds.MissingApiKey, NenErrorCategory.InvalidArgument, "No Nen API key is configured.");
            if (options.ProxyUri != null) NenClientOptions.ValidateProxyUri(options.ProxyUri);
            _http = HttpClientPool.Get(options);
            _log = RedactingLog.Wrap(log);
            _logging = !(log is null || log is NullLog);
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
            _keys = new SecretScrubber(new[] { options.ApiKey, options.SigningKey });
#if NETFRAMEWORK
            _route = ProxyRoute.For(options, () => WebRequest.DefaultWebProxy);
#else
            _route = ProxyRoute.For(options, () => HttpClient.DefaultProxy);
#endif
        }

        /// <summary>-ProxyCredential or -ProxyUseDefaultCredentials was given: a proxy's refusal is then of those.</summary>
        private bool ProxyCredentialsGiven => Options.ProxyCredential != null || Options.ProxyUseDefaultCredentials;

        public NenClientOptions Options { get; }

        /// <summary>POST /runs; made once, not per row.</summary>
        public Uri RunsUri => _runsUri ??= new Uri(Options.BaseUri, RunsPath);

        public Uri RunUri(string messageId) => new Uri(Options.BaseUri, RunsPath + "/" + Uri.EscapeDataString(messageId));

        /// <summary>
        /// The one check that secure parameters can travel: only in HMAC-signed requests, so a signing key is needed
        /// before anything is sent.
        /// </summary>
        public void EnsureCanSign(int secureParameterCount)
        {
            if (secureParameterCount > 0 && Options.SigningKey is null)
            {
                throw new NenException(NenErrorIds.SigningKeyRequired, NenErrorCategory.SecurityError,
                    $"Secure parameters (-SecureParameter) travel only in HMAC-signed requests, and no signing key is configured. Pass -SigningKey or set {EnvironmentVariables.SigningKey}.");
            }
        }

        /// <summary>
        /// POST /runs. Retried only when the server provably did not accept the run (429, 503, or the request never
        /// left: no connection, a failed TLS handshake or proxy tunnel, a body that was never written in full), through
        /// <paramref name="circuit"/>, which a batch shares so one throttle pauses every row and one outage or refused
        /// key stops them all. An ambiguous failure throws <see cref="NenOutcomeUnknownException"/>; a row the batch
        /// stopped before sending, <see cref="NenNotSentException"/>.
        /// </summary>
        public async Task<RunAccepted> StartRunAsync(RunRequest request, CancellationToken cancellationToken = default, BatchCircuit? circuit = null)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            EnsureCanSign(request.SecureParameters.Count);
            using ZeroingBufferWriter body = RunRequestSerializer.Serialize(request);
            ApiCall call = ApiCall.StartRun(RunsUri, body, request.IdempotencyKey, new SecretScrubber(Secrets(request)), request.Label);
            return await SendAsync(call, circuit ?? BatchCircuit.For(Options), (text, _, _) => ParseAccepted(text, request), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// GET /runs/{messageId}. 429/503 and unreachable servers pause through <paramref name="circuit"/> (shared by a
        /// command's queries); network errors, timeouts, 408 and 5xx are retried within this call's own budget.
        /// </summary>
        public Task<RunSnapshot> GetRunAsync(string messageId, CancellationToken cancellationToken = default, BatchCircuit? circuit = null)
        {
            string id = MessageIds.Check(messageId);
            ApiCall call = ApiCall.Read(RunUri(id), $"Getting run {id}", _keys);
            return SendAsync(call, circuit ?? BatchCircuit.For(Options), (text, retryAfter, code) => ParseStatus(text, id, retryAfter, code), cancellationToken);
        }

        /// <summary>
        /// The one request loop behind every API call: the circuit's admission (pauses, probes, a tripped circuit),
        /// retries of what provably was not accepted (honouring Retry-After), retries of a read after a transient
        /// failure, and the verdict on every answer told to the circuit, which alone decides when the service is not
        /// working for anyone.
        /// </summary>
        private async Task<T> SendAsync<T>(ApiCall call, BatchCircuit circuit, Func<string, TimeSpan?, HttpStatusCode, T> parse, CancellationToken cancellationToken)
        {
            var budget = NewBudget(); // this call's own retries; the circuit bounds the batch
            int foreignReads = 0;
            NenException? lastForeign = null;
            while (true)
            {
                Admission admission;
                try
                {
                    admission = await circuit.EnterAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!call.Resendable)
                {
                    throw NenNotSentException.Stopped(ex); // stopped while waiting its turn: nothing of this row left
                }
                if (call.AnsweredForeign && !circuit.InFailureStreak && lastForeign != null)
                {
                    // Another request was answered since this row's: the answer was the row's own, not everyone's.
                    circuit.Abandoned(admission);
                    throw lastForeign;
                }
                (bool done, T value, NenException? refusal, NenException? failure) = await AttemptAsync(call, admission, circuit, parse, cancellationToken).ConfigureAwait(false);
                if (done) return value;
                if (refusal != null)
                {
                    // Provably not accepted: the circuit's pause is the wait.
                    NenException? tripped = circuit.Throttled(admission, refusal.RetryAfter, refusal);
                    if (tripped != null) throw tripped;
                    // A service answering 429/503 is waited out for the retry budget's time alone (the circuit paused the batch
                    // and would have tripped first); a server that could not be reached counts against -MaximumRetryCount too.
                    if (!budget.TryNext(refusal.RetryAfter, out _, counted: refusal is NenTransportException)) throw Exhausted(refusal, budget);
                    if (_logging) _log.Verbose($"{call.Method.Method} {Redactor.Url(call.Uri)}{For(call.Label)}: {refusal.ErrorId}; provably not accepted. The batch pauses, then sends it again (retry {budget.RetriesUsed}).");
                    continue;
                }
                if (ForeignAnswers.IsForeign(failure!))
                {
                    // Not the API's answer (a page, a body that is not its JSON, a status it does not define): every request of
                    // the batch may meet it, so the circuit judges it (and stops the batch after a few in a row). The call is
                    // asked again without a back-off of its own (the circuit paces the batch): a POST so answered was not
                    // accepted, and is sent again once another request is answered, within its retries. A read is asked once
                    // more, then is its own error, unless the batch's other reads meet it too.
                    if (!budget.TryNext(null, out _)) throw failure!;
                    if (!call.Resendable) { lastForeign = failure; continue; }
                    if (circuit.JudgesReads) continue;
                    if (++foreignReads == 1)
                    {
                        // Reads on the wire together are answered a moment apart: wait a little for the others' verdict.
                        await circuit.KeepReadingAsync(cancellationToken, ForeignAnswerGrace).ConfigureAwait(false);
                        continue;
                    }
                    throw failure!;
                }
                // A read that failed transiently: again after a back-off of its own. With its retries spent it gives up alone,
                // unless the batch's other reads are failing with it: then it waits its turn, and the circuit judges the outage
                // (once it has stopped the batch, the read learns it was not sent again, as every other one does).
                if (!budget.TryNext(failure!.RetryAfter, out TimeSpan delay))
                {
                    if (await circuit.KeepReadingAsync(cancellationToken).ConfigureAwait(false)) continue;
                    throw failure;
                }
                if (_logging) _log.Verbose($"{call.Method.Method} {Redactor.Url(call.Uri)}{For(call.Label)}: {failure.ErrorId}, retrying in {delay.TotalMilliseconds:0} ms (retry {budget.RetriesUsed}).");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// One attempt and its verdict: done (with the parsed answer), refused (provably not accepted: may be sent
        /// again after the pause), or failed (a read's transient failure). A definite answer that is an error, an
        /// ambiguous failure of a POST (its outcome is unknown) and refused credentials (which trip the circuit) throw.
        /// </summary>
        private async Task<(bool Done, T Value, NenException? Refusal, NenException? Failure)> AttemptAsync<T>(
            ApiCall call, Admission admission, BatchCircuit circuit, Func<string, TimeSpan?, HttpStatusCode, T> parse, CancellationToken cancellationToken)
        {
            TrackedBody? content = call.Body is null ? null : new TrackedBody(call.Body.Buffer, call.Body.WrittenCount);
            bool answered = false;
            try
            {
                using HttpResponseMessage response = await SendAsync(call.Method, call.Uri, content, call.IdempotencyKey, call.Label, cancellationToken).ConfigureAwait(false);
                string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                answered = true;
                int code = (int)response.StatusCode;
                TimeSpan? retryAfter = RetryAfter.Read(response, _clock());
                if (code >= 200 && code < 300)
                {
                    T value;
                    try
                    {
                        value = parse(text, retryAfter, response.StatusCode);
                    }
                    catch (NenException unreadable) when (unreadable.ErrorId == NenErrorIds.UnexpectedResponse)
                    {
                        // Not the API's JSON (a captive portal's page, a truncated body): not an answer of the service's, so the
                        // circuit counts it as it counts an outage's failures.
                        NenException foreign = ForeignAnswers.NotTheApisJson(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text,
                            call.Operation, unreadable.Message, unreadable.InnerException, call.Scrubber);
                        if (call.Resendable) return (false, default!, null, ReadFailure(call, admission, circuit, foreign));
                        // A 2xx may have started the run: its outcome is unknown (spec section 11), and it is not sent again.
                        throw Unknown(call, admission, circuit, foreign, (code == 202
                                ? $"The server answered 202 Accepted, but its answer was not the Nen API's ({unreadable.Message}), so it is not known which run started."
                                : $"The server answered {ForeignAnswers.Answered(response.StatusCode, response.Content.Headers.ContentType?.MediaType)}, not the Nen API's JSON (a captive portal, a proxy's page or a wrong -BaseUri?), so it is not known whether a run started.")
                            + $" It was not resubmitted, to avoid starting it twice. Idempotency-Key: {call.IdempotencyKey}.");
                    }
                    circuit.Answered(admission);
                    return (true, value, null, null);
                }
                // A redirect is never followed (the API key would go along to wherever it leads): every request would meet it.
                NenException error = ForeignAnswers.Redirect(response, call.Uri, call.Operation)
                    ?? ProxyAnswer(response, text, call.Uri, call.Operation, call.Scrubber)
                    ?? ApiErrorMapper.Map(response.StatusCode, text, retryAfter, call.Operation, call.Scrubber, Options.BaseUri);
                if (code == 429 || code == 503) return (false, default!, error, null);
                if (BatchCircuit.RefusesEveryRequest(error))
                {
                    NenException stopped = circuit.Refused(error);
                    // A proxy's refusal is told with what to check (-Proxy, -ProxyCredential) even to a lone caller.
                    throw error is ProxyRefusedException && stopped is ProxyRefusedException ? stopped : error;
                }
                if (code >= 500 && !call.Resendable)
                {
                    throw Unknown(call, admission, circuit, error,
                        $"The server answered HTTP {code} after receiving the run request, so it may or may not have started the run. It was not resubmitted, to avoid starting it twice. Idempotency-Key: {call.IdempotencyKey}.");
                }
                // A read's 5xx or 408 is an ambiguous failure, told to the circuit, which paces (and may stop) the batch's reads.
                if (call.Resendable && error.IsTransient) return (false, default!, null, ReadFailure(call, admission, circuit, error));
                if (ForeignAnswers.IsForeign(error))
                {
                    // A status the contract does not define (418, 405, a 3xx without a Location): every request may meet it,
                    // so the circuit counts it, and five rows in a row so answered stop the batch. A POST so answered started no
                    // run: it waits for the circuit's verdict and, while the streak stands, is sent again once (the streak's
                    // probe, counted once). Answered so again without the batch stopping, or when another request was answered
                    // meanwhile, it is the row's own answer (a firewall refusing its values, say) and fails alone. Sent again
                    // until its retries ran out, one such row made all five of the streak and stopped a healthy batch.
                    if (call.Resendable) return (false, default!, null, ReadFailure(call, admission, circuit, error));
                    bool again = call.AnsweredForeign;
                    call.AnsweredForeign = true;
                    if (circuit.Failed(admission, error, counted: !again) is NenException tripped) throw tripped;
                    if (!again) return (false, default!, null, error);
                    // Answered so twice: the row's own answer, unless the batch stops meanwhile (its other rows, still on the
                    // wire, meet it too: then it is one of the rows not sent, which the stop's one error covers).
                    if (await circuit.AwaitFailureVerdictAsync(cancellationToken, ForeignAnswerGrace).ConfigureAwait(false))
                        throw NenNotSentException.GateClosed(circuit.ClosedBecause!);
                    throw error;
                }
                circuit.Answered(admission);
                throw error;
            }
            catch (ProxyRefusedException ex) when (!answered)
            {
                // The proxy would not open the tunnel: nothing reached the service, and every request would meet the same.
                NenException stopped = circuit.Refused(ex);
                throw stopped is ProxyRefusedException ? stopped : ex;
            }
            catch (NenTransportException ex) when (!answered && (ex.ProvablyNotSent || (content != null && !content.Written)))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    circuit.Abandoned(admission);
                    if (call.Resendable) throw new OperationCanceledException(cancellationToken);
                    throw NenNotSentException.Stopped(ex);
                }
                return (false, default!, ex.ProvablyNotSent ? ex
                    : new NenTransportException(ex.Message + (ex.ErrorId == NenErrorIds.Timeout
                        ? " The request never left: no connection took it in time (the server did not accept a connect, or every connection was busy), so no run can have started."
                        : " The request body was never sent in full, so no run can have started."), provablyNotSent: true, ex, ex.ErrorId, ex.Category), null);
            }
            catch (NenTransportException ex) when (!answered)
            {
                if (call.Resendable) return (false, default!, null, ReadFailure(call, admission, circuit, ex));
                throw Unknown(call, admission, circuit, ex,
                    $"{ex.Message} The request may have reached the server, so it was not resubmitted, to avoid starting the run twice. Idempotency-Key: {call.IdempotencyKey}.");
            }
            catch (OperationCanceledException ex) when (!answered)
            {
                circuit.Abandoned(admission);
                if (content != null && !content.Written) throw NenNotSentException.Stopped(ex);
                throw;
            }
            catch (Exception ex) when (!answered && !(ex is NenException))
            {
                circuit.Abandoned(admission);
                throw;
            }
        }

        /// <summary>
        /// The proxy's refusal of its credentials, when the answer is one (<see cref="ProxyAnswers.IsCredentialRefusal"/>);
        /// null for an answer of the service's.
        /// </summary>
        private ProxyRefusedException? ProxyAnswer(HttpResponseMessage response, string? text, Uri uri, string operation, SecretScrubber scrubber)
        {
            int code = (int)response.StatusCode;
            if (code != 401 && code != 407) return null;
            Uri? proxy = _route.Of(uri);
            bool challenge = response.Headers.ProxyAuthenticate.Count > 0;
#if NETFRAMEWORK
            const bool netFramework = true;
#else
            const bool netFramework = false;
#endif
            return ProxyAnswers.IsCredentialRefusal(code, challenge, text, proxy, ProxyAnswers.AnswersComeThroughTunnel(uri, netFramework))
                ? ProxyAnswers.CredentialsRefused(operation, proxy, code, text, scrubber, ProxyCredentialsGiven)
                : null;
        }

        /// <summary>A read that failed ambiguously: the circuit counts it; the reason it tripped for is thrown (not retried).</summary>
        private static NenException ReadFailure(ApiCall call, Admission admission, BatchCircuit circuit, NenException failure) =>
            circuit.ReadFailed(admission, failure, call.Uri.AbsolutePath) is NenException tripped ? throw tripped : failure;

        /// <summary>A POST that failed ambiguously: the circuit counts it, and the row's outcome is unknown.</summary>
        private static NenOutcomeUnknownException Unknown(ApiCall call, Admission admission, BatchCircuit circuit, NenException cause, string message)
        {
            circuit.Failed(admission, cause);
            return new NenOutcomeUnknownException(message, call.IdempotencyKey!, cause) { StatusCode = cause.StatusCode };
        }

        /// <summary>Any value the server sends is parsed defensively: an unreadable status is a typed error, never a hang.</summary>
        private RunSnapshot ParseStatus(string text, string messageId, TimeSpan? retryAfter, HttpStatusCode code)
        {
            RunSnapshot status;
            try
            {
                status = RunSnapshot.Parse(text, messageId, _clock());
                status.PollAfter = retryAfter;
            }
            catch (Exception ex) when (ex is JsonException || ex is ArgumentException || ex is FormatException || ex is OverflowException || ex is InvalidOperationException)
            {
                // Not a run's status: the request loop tells what came back.
                throw new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    $"not the status of run {messageId}: {(ex is JsonException ? "not JSON, or cut short" : ex.GetType().Name)}", ex) { StatusCode = code };
            }
            // JSON, but not this run's status: without a status it would be polled as "still running" until the deadline (for
            // ever without one), and another run's would be written (and its files saved) as this run's, and this run lost.
            string? problem = string.IsNullOrEmpty(status.Status) ? "it has no status"
                : !string.Equals(status.MessageId, messageId, StringComparison.OrdinalIgnoreCase) ? $"it is the status of another run, {MessageIds.Shown(status.MessageId)}"
                : null;
            if (problem != null)
                throw new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, $"not the status of run {messageId}: {problem}") { StatusCode = code };
            return status;
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
                    catch (HttpRequestException ex) when (TransportFailure.TunnelStatus(ex) is int status)
                    {
                        throw TunnelRefused($"Downloading {Redactor.Url(current)}", current, status, ex);
                    }
                    catch (HttpRequestException ex)
                    {
                        throw new NenTransportException($"Downloading {Redactor.Url(current)} failed: {TransportFailure.Describe(ex, _route.Of(current))}.", TransportFailure.IsProvablyNotSent(ex), ex);
                    }
                }
                if (_logging) _log.Verbose($"GET {Redactor.Url(current)} -> {(int)response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                int code = (int)response.StatusCode;
                if (code == 401 || code == 407)
                {
                    // A proxy in the way of the storage refuses its credentials: that, not the link, is the problem.
                    string page = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
                    ProxyRefusedException? refusal = ProxyAnswer(response, page, current, $"Downloading {Redactor.Url(current)}", _keys);
                    if (refusal != null)
                    {
                        response.Dispose();
                        throw refusal;
                    }
                }
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

        /// <summary>How long a read answered with what is not the API's waits for the batch's other reads to be answered.</summary>
        private static readonly TimeSpan ForeignAnswerGrace = TimeSpan.FromSeconds(2);

        /// <summary>The refusal that used up a request's own retries, saying so.</summary>
        private static NenException Exhausted(NenException last, RetryBudget budget) =>
            last.WithMessage($"{last.Message} Gave up after {budget.RetriesUsed} retr{(budget.RetriesUsed == 1 ? "y" : "ies")}.");

        private RetryBudget NewBudget() => new RetryBudget(Options.MaximumRetryCount, Options.MaximumRetryDuration, Options.RetryBaseDelay);

        /// <summary>One attempt: builds, signs and sends; transport failures and our timeout become <see cref="NenTransportException"/>.</summary>
        private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, TrackedBody? content, string? idempotencyKey, string? label, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.TryAddWithoutValidation(RequestSigner.ApiKeyHeader, Options.ApiKey.RevealForHeader());
            if (idempotencyKey != null) request.Headers.TryAddWithoutValidation(IdempotencyHeader, idempotencyKey);
            if (content != null)
            {
                request.Content = content;
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
#if !NETFRAMEWORK
                // Through a proxy to plain http, the proxy reads the request itself and may refuse it (407, or tinyproxy's
                // 401) before the body, closing the connection with the body unread: a reset that would make the row's
                // outcome unknown. With Expect: 100-continue the body waits for the go-ahead, so a refusal arrives as the
                // clean answer it is. Only until a request has got through: a proxy that never relays "100 Continue"
                // (tinyproxy speaks HTTP/1.0 to the server) makes each such POST wait out the 1 s Expect timeout.
                // (Not on .NET Framework, where it is a setting of the process-wide ServicePoint.)
                if (uri.Scheme == Uri.UriSchemeHttp && Volatile.Read(ref _answeredOk) == 0 && _route.Of(uri) != null) request.Headers.ExpectContinue = true;
#endif
            }
            if (Options.SigningKey != null)
            {
                string timestamp = RequestSigner.UnixSeconds(_clock());
                string bodyHash = RequestSigner.BodyHash(content?.Bytes ?? EmptyBody, content?.Count ?? 0);
                string canonical = RequestSigner.CanonicalRequest(method.Method, uri.AbsolutePath, timestamp, bodyHash);
                request.Headers.TryAddWithoutValidation(RequestSigner.TimestampHeader, timestamp);
                request.Headers.TryAddWithoutValidation(RequestSigner.SignatureHeader, RequestSigner.Sign(Options.SigningKey, canonical));
            }

            if (_logging) _log.Debug($"{method.Method} {Redactor.Url(uri)}{For(label)}: {content?.Count ?? 0} body bytes, {(Options.SigningKey != null ? "signed" : "not signed")}, API key sent (value hidden).");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.Timeout);
            var sw = Stopwatch.StartNew();
            try
            {
                HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) Volatile.Write(ref _answeredOk, 1);
                if (_logging) _log.Verbose($"{method.Method} {Redactor.Url(uri)}{For(label)} -> {(int)response.StatusCode} {response.StatusCode} in {sw.ElapsedMilliseconds} ms");
                return response;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex) when (TransportFailure.IsProvablyNotSent(ex))
            {
                // Our timeout struck while still connecting: nothing left.
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} failed: {TransportFailure.Describe(ex, _route.Of(uri))}. Nothing was sent.", provablyNotSent: true, ex,
                    NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
            }
            catch (OperationCanceledException ex)
            {
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} timed out after {Options.Timeout.TotalSeconds:0.#} s.", provablyNotSent: false, ex,
                    NenErrorIds.Timeout, NenErrorCategory.OperationTimeout);
            }
            catch (HttpRequestException ex) when (TransportFailure.TunnelStatus(ex) is int status)
            {
                // The proxy would not open the tunnel (https): its answer, told as the proxy's. Refused credentials (407, or
                // the 401 tinyproxy answers) and a refusal by policy stop the batch at once; a 5xx is a server it cannot reach.
                if (_logging) _log.Verbose($"{method.Method} {Redactor.Url(uri)}{For(label)} -> the proxy answered {status} to the tunnel request in {sw.ElapsedMilliseconds} ms");
                throw TunnelRefused($"{method.Method} {Redactor.Url(uri)}", uri, status, ex);
            }
            catch (HttpRequestException ex)
            {
                bool notSent = TransportFailure.IsProvablyNotSent(ex);
                throw new NenTransportException($"{method.Method} {Redactor.Url(uri)} failed: {TransportFailure.Describe(ex, _route.Of(uri))}.{(notSent ? " Nothing was sent." : string.Empty)}", notSent, ex);
            }
        }

        /// <summary>A proxy's refusal to open a tunnel to <paramref name="target"/>, as the error it is (see <see cref="ProxyAnswers"/>).</summary>
        private NenException TunnelRefused(string request, Uri target, int status, Exception ex)
        {
            Uri? proxy = _route.Of(target);
            return status is 401 or 407
                ? ProxyAnswers.CredentialsRefused(request, proxy, status, null, null, ProxyCredentialsGiven, ex)
                : ProxyAnswers.TunnelRefused(request, target, proxy, status, ex);
        }

        /// <summary>" (row 3 (JobId 1003))" after a request line, so -Verbose names the row each request is for.</summary>
        private static string For(string? label) => label is null ? string.Empty : " (" + label + ")";

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
                if (string.IsNullOrWhiteSpace(messageId)) throw new InvalidOperationException("no messageId");
                string workflowId = root.TryGetProperty("workflowId", out JsonElement w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : request.WorkflowId;
                string? message = root.TryGetProperty("message", out JsonElement msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString() : null;
                return new RunAccepted(messageId!, workflowId, message, _clock(), text);
            }
            catch (Exception ex) when (ex is JsonException || ex is InvalidOperationException)
            {
                // Not the API's answer to a run request: the request loop tells what came back, and the row's outcome is unknown.
                throw new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult, ex is JsonException ? "not JSON, or cut short" : "no readable messageId in it", ex);
            }
        }
    }
}
