using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using NenAi.Core.Signing;

namespace NenAi.Emulator
{
    /// <summary>The spec §11 contract: POST /runs, GET /runs/{messageId} and presigned downloads.</summary>
    public sealed class RunsApi
    {
        public const string FaultHeader = "x-emulator-fault";
        private static readonly JsonSerializerOptions Relaxed = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        private readonly EmulatorState _state;
        private readonly Presigner _presigner = new Presigner();
        private WebhookDispatcher? _webhooks;

        public RunsApi(EmulatorState state) => _state = state;

        public void UseWebhooks(WebhookDispatcher dispatcher) => _webhooks = dispatcher;

        public async Task PostRunsAsync(HttpContext ctx)
        {
            using IDisposable _ = _state.EnterPost();
            _state.CountUserAgent(ctx.Request.Headers.UserAgent);
            FaultDecision fault = _state.Faults.Decide("POST /runs", ctx.Request.Headers[FaultHeader]);
            if (await ApplyBeforeFaultsAsync(ctx, fault)) return;

            ApiKeyConfig? key = Authenticate(ctx);
            if (key is null) { await UnauthorizedAsync(ctx); return; }

            byte[]? body = await ReadBodyAsync(ctx);
            if (body is null)
            {
                await ErrorAsync(ctx, 413, "payload_too_large", $"The request body exceeds {_state.Config.MaxBodyBytes} bytes.");
                return;
            }

            bool signed = ctx.Request.Headers.ContainsKey(RequestSigner.SignatureHeader);
            if (signed && !await VerifySignatureAsync(ctx, key, body)) return;

            JsonObject? root;
            try { root = JsonNode.Parse(body) as JsonObject; }
            catch (JsonException) { root = null; }
            if (root is null) { await ErrorAsync(ctx, 400, "Invalid request", "The body is not a JSON object."); return; }
            if (!root.TryGetPropertyValue("workflow_id", out JsonNode? idNode) || idNode is null)
            {
                await ErrorAsync(ctx, 400, "Invalid request", "Missing required field: workflow_id");
                return;
            }
            if (idNode.GetValueKind() != JsonValueKind.String) { await ErrorAsync(ctx, 400, "Invalid request", "workflow_id must be a string."); return; }
            string workflowId = idNode.GetValue<string>();

            JsonObject? secure = null;
            if (root.TryGetPropertyValue("secure_workflow_params", out JsonNode? secureNode) && secureNode != null)
            {
                if (!signed)
                {
                    await ErrorAsync(ctx, 403, "hmac_required_for_secure_params", "The secure_workflow_params field requires HMAC authentication.");
                    return;
                }
                secure = secureNode as JsonObject;
                if (secure is null) { await ErrorAsync(ctx, 400, "Invalid request", "secure_workflow_params must be an object."); return; }
            }
            JsonObject? parameters = null;
            if (root.TryGetPropertyValue("workflow_params", out JsonNode? paramsNode) && paramsNode != null)
            {
                parameters = paramsNode as JsonObject;
                if (parameters is null) { await ErrorAsync(ctx, 400, "Invalid request", "workflow_params must be an object."); return; }
            }
            string? webhook = null;
            if (root.TryGetPropertyValue("webhook_callback", out JsonNode? hookNode) && hookNode != null)
            {
                webhook = hookNode.GetValueKind() == JsonValueKind.String ? hookNode.GetValue<string>() : null;
                if (webhook is null || !Uri.TryCreate(webhook, UriKind.Absolute, out Uri? hookUri) || (hookUri.Scheme != "https" && hookUri.Scheme != "http"))
                {
                    await ErrorAsync(ctx, 400, "Invalid request", "webhook_callback must be an absolute http(s) URL.");
                    return;
                }
            }

            WorkflowConfig? workflow = _state.Config.Workflows.FirstOrDefault(w => string.Equals(w.Id, workflowId, StringComparison.OrdinalIgnoreCase));
            if (workflow is null) { await ErrorAsync(ctx, 404, "workflow_not_found", $"No workflow with id '{Shorten(workflowId)}' is deployed for this key."); return; }

            var problems = ParamValidator.Validate(workflow, parameters, secure, _state.Config.EchoInputInErrors);
            if (problems.Count > 0)
            {
                var details = new JsonArray(problems.Select(p => (JsonNode)new JsonObject { ["field"] = p.Field, ["problem"] = p.Problem }).ToArray());
                await ErrorAsync(ctx, 422, "invalid_workflow_params",
                    $"The parameters do not fit workflow '{workflow.Name}': " + string.Join("; ", problems.Select(p => $"{p.Field}: {p.Problem}")), details);
                return;
            }

            string bodyHash = Hex.ToLower(SHA256.HashData(body));
            string? idempotencyKey = ctx.Request.Headers["Idempotency-Key"].FirstOrDefault();
            var (reply, conflict) = _state.AcceptOrReplay(key.Name, idempotencyKey, bodyHash,
                () => CreateRun(workflow, key, idempotencyKey, parameters, secure, webhook),
                run => new JsonObject { ["message"] = "Job accepted for processing.", ["messageId"] = run.MessageId, ["workflowId"] = run.WorkflowId }.ToJsonString(Relaxed));
            if (conflict)
            {
                await ErrorAsync(ctx, 409, "idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
                return;
            }

            // Faults that strike after the run was accepted: the caller cannot know it was.
            if (fault.Kind == "latency-after-accept") await Task.Delay(fault.LatencyMs, ctx.RequestAborted);
            if (fault.Kind == "500-after-accept") { await ErrorAsync(ctx, 500, "internal_error", "Something went wrong."); return; }
            if (fault.Kind == "reset-after-accept") { ctx.Abort(); return; }

            ctx.Response.StatusCode = 202;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(reply!);
        }

        private EmulatedRun CreateRun(WorkflowConfig workflow, ApiKeyConfig key, string? idempotencyKey, JsonObject? parameters, JsonObject? secure, string? webhook)
        {
            DateTimeOffset now = _state.Now;
            DateTimeOffset starts = now.AddMilliseconds(workflow.QueuedMs);
            int jitter = workflow.DurationJitterMs > 0 ? Random.Shared.Next(0, workflow.DurationJitterMs + 1) : 0;
            string? error = null;
            foreach (FailRule rule in workflow.FailWhen)
            {
                if (parameters != null && parameters.TryGetPropertyValue(rule.Param, out JsonNode? v) && v != null &&
                    string.Equals(v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString(Relaxed), rule.EqualsValue, StringComparison.Ordinal))
                {
                    error = rule.Message;
                    break;
                }
            }
            var run = new EmulatedRun
            {
                MessageId = Guid.NewGuid().ToString(),
                WorkflowId = workflow.Id,
                ApiKeyName = key.Name,
                IdempotencyKey = idempotencyKey,
                AcceptedAt = now,
                StartsAt = starts,
                EndsAt = starts.AddMilliseconds(workflow.DurationMs + jitter),
                Fails = error != null,
                Error = error,
                Params = parameters is null ? new JsonObject() : (JsonObject)parameters.DeepClone(),
                SecureParamNames = secure?.Select(p => p.Key).ToList() ?? new System.Collections.Generic.List<string>(),
                WebhookCallback = webhook,
                Workflow = workflow,
            };
            _webhooks?.Schedule(run);
            return run;
        }

        public async Task GetRunAsync(HttpContext ctx, string messageId)
        {
            _state.CountGet(messageId);
            _state.CountUserAgent(ctx.Request.Headers.UserAgent);
            FaultDecision fault = _state.Faults.Decide("GET /runs", ctx.Request.Headers[FaultHeader], messageId);
            if (await ApplyBeforeFaultsAsync(ctx, fault)) return;
            ApiKeyConfig? key = Authenticate(ctx);
            if (key is null) { await UnauthorizedAsync(ctx); return; }
            if (ctx.Request.Headers.ContainsKey(RequestSigner.SignatureHeader) && !await VerifySignatureAsync(ctx, key, Array.Empty<byte>())) return;

            EmulatedRun? run = _state.Find(messageId);
            if (run is null || run.ApiKeyName != key.Name || fault.Kind == "404")
            {
                await ErrorAsync(ctx, 404, "run_not_found", $"No run with message id '{Shorten(messageId)}' exists for this key.");
                return;
            }
            string status = run.StatusAt(_state.Now);
            if (_state.Config.StatusRetryAfterSeconds > 0 && (status == "queued" || status == "processing"))
                ctx.Response.Headers.RetryAfter = _state.Config.StatusRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(StatusJson(run, status, PublicBase(ctx)));
        }

        /// <summary>The payload of the latest webhook for the run (spec §11 Q1/Q3).</summary>
        public string StatusJson(EmulatedRun run, string status, string publicBase)
        {
            long expires = _state.Now.AddSeconds(_state.Config.PresignedUrlLifetimeSeconds).ToUnixTimeSeconds();
            var json = new JsonObject
            {
                ["workflow_id"] = run.WorkflowId,
                ["message_id"] = run.MessageId,
                ["status"] = status,
                ["expires_at"] = expires,
            };
            if (status == "success") json["result"] = run.Workflow.Result?.DeepClone() ?? new JsonObject();
            else if (status == "failed") json["error"] = run.Error;
            var files = status == "success" || status == "failed" ? ResultContent.For(run) : null;
            if (files != null && (status == "success" || files.Count > 0))
            {
                var results = new JsonArray();
                for (int i = 0; i < files.Count; i++)
                {
                    results.Add(new JsonObject
                    {
                        ["name"] = files[i].Name,
                        ["url"] = _presigner.Sign(publicBase, run.MessageId, i, expires),
                        ["content_type"] = files[i].ContentType,
                        ["size"] = files[i].Bytes.Length,
                    });
                }
                json["results"] = results;
            }
            return json.ToJsonString(Relaxed);
        }

        public async Task DownloadAsync(HttpContext ctx, string messageId, int index)
        {
            _state.CountDownload();
            _state.RecordDownload(new DownloadRequest
            {
                MessageId = messageId, Index = index,
                Range = ctx.Request.Headers.Range.ToString(), IfRange = ctx.Request.Headers.IfRange.ToString(),
                HasApiKey = ctx.Request.Headers.ContainsKey(RequestSigner.ApiKeyHeader),
            });
            FaultDecision fault = _state.Faults.Decide("GET /files", ctx.Request.Headers[FaultHeader], messageId);
            if (fault.LatencyMs > 0) await Task.Delay(fault.LatencyMs, ctx.RequestAborted);
            if (fault.Kind == "raw" || fault.Kind == "429" || fault.Kind == "503") { await ApplyBeforeFaultsAsync(ctx, fault); return; }
            if (!_presigner.Verify(messageId, index, ctx.Request.Query["expires"], ctx.Request.Query["sig"], _state.Now, out bool expired))
            {
                await ErrorAsync(ctx, 403, expired ? "url_expired" : "invalid_url_signature", expired ? "This download link has expired." : "This download link is not valid.");
                return;
            }
            EmulatedRun? run = _state.Find(messageId);
            var files = run is null ? null : ResultContent.For(run);
            if (files is null || index < 0 || index >= files.Count) { await ErrorAsync(ctx, 404, "not_found", "No such file."); return; }
            ResultContent.File file = files[index];
            // A strong ETag of the content, on every answer that carries it: a resume with If-Range gets the rest
            // only if the file is unchanged.
            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + Hex.ToLower(SHA256.HashData(file.Bytes)).Substring(0, 32) + "\"");
            ctx.Response.Headers.ETag = etag.ToString();

            switch (fault.Kind)
            {
                case "truncate-download":
                    ctx.Response.ContentLength = file.Bytes.Length;
                    ctx.Response.ContentType = file.ContentType;
                    await ctx.Response.Body.WriteAsync(file.Bytes.AsMemory(0, file.Bytes.Length / 2), ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                    ctx.Abort();
                    return;
                case "stall-download":
                    // Headers and a few bytes, then nothing, for as long as the client stays.
                    ctx.Response.ContentLength = file.Bytes.Length;
                    ctx.Response.ContentType = file.ContentType;
                    await ctx.Response.Body.WriteAsync(file.Bytes.AsMemory(0, Math.Min(16, file.Bytes.Length)), ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                    try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
                    catch (OperationCanceledException) { }
                    return;
                case "redirect-download":
                    // Storage behind a redirect: the same presigned link, one hop further.
                    ctx.Response.StatusCode = 302;
                    ctx.Response.Headers.Location = ctx.Request.Path + ctx.Request.QueryString + "&hop=1";
                    return;
                case "bad-content-range":
                    ctx.Response.StatusCode = 206;
                    ctx.Response.ContentType = file.ContentType;
                    ctx.Response.Headers.ContentRange = $"bytes 0-{file.Bytes.Length - 1}/{file.Bytes.Length}";
                    ctx.Response.ContentLength = file.Bytes.Length;
                    await ctx.Response.Body.WriteAsync(file.Bytes, ctx.RequestAborted);
                    return;
                case "oversize-download":
                    ctx.Response.ContentType = file.ContentType;
                    await ctx.Response.Body.WriteAsync(file.Bytes, ctx.RequestAborted);
                    await ctx.Response.Body.WriteAsync(new byte[Math.Max(1024, file.Bytes.Length)], ctx.RequestAborted);
                    return;
                case "slow-download":
                    await SlowAsync(ctx, file);
                    return;
            }
            await Results.Bytes(file.Bytes, file.ContentType, enableRangeProcessing: true, entityTag: etag).ExecuteAsync(ctx);
        }

        private async Task SlowAsync(HttpContext ctx, ResultContent.File file)
        {
            int rate = Math.Max(1024, _state.Faults.Settings.DownloadBytesPerSecond);
            ctx.Response.ContentLength = file.Bytes.Length;
            ctx.Response.ContentType = file.ContentType;
            int chunk = Math.Max(1, rate / 10);
            for (int offset = 0; offset < file.Bytes.Length; offset += chunk)
            {
                int n = Math.Min(chunk, file.Bytes.Length - offset);
                await ctx.Response.Body.WriteAsync(file.Bytes.AsMemory(offset, n), ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                await Task.Delay(100, ctx.RequestAborted);
            }
        }

        private async Task<bool> ApplyBeforeFaultsAsync(HttpContext ctx, FaultDecision fault)
        {
            // latency-after-accept waits after the run is recorded instead (see PostRunsAsync).
            if (fault.LatencyMs > 0 && fault.Kind != "latency-after-accept") await Task.Delay(fault.LatencyMs, ctx.RequestAborted);
            switch (fault.Kind)
            {
                case "raw":
                    ScriptedFault raw = fault.Script!;
                    _state.CountRejected();
                    ctx.Response.StatusCode = raw.StatusCode;
                    foreach (var (name, value) in raw.Headers) ctx.Response.Headers[name] = value;
                    if (raw.Body != null) await ctx.Response.WriteAsync(raw.Body);
                    return true;
                case "429":
                case "503":
                    ctx.Response.Headers.RetryAfter = fault.Script?.RetryAfterText
                        ?? (fault.RetryAfterAsDate
                            ? _state.Now.AddSeconds(fault.RetryAfterSeconds).ToString("r", CultureInfo.InvariantCulture)
                            : fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture));
                    _state.CountRejected();
                    if (fault.Kind == "429") await ErrorAsync(ctx, 429, "rate_limited", "Too many requests; slow down.");
                    else await ErrorAsync(ctx, 503, "service_unavailable", "The service is overloaded; try again later.");
                    return true;
                case "500":
                    _state.CountRejected();
                    await ErrorAsync(ctx, 500, "internal_error", "Something went wrong.");
                    return true;
                case "reset":
                    _state.CountRejected();
                    ctx.Abort();
                    return true;
                default:
                    return false;
            }
        }

        private ApiKeyConfig? Authenticate(HttpContext ctx)
        {
            string? given = ctx.Request.Headers[RequestSigner.ApiKeyHeader].FirstOrDefault();
            if (string.IsNullOrEmpty(given)) return null;
            byte[] givenBytes = Encoding.UTF8.GetBytes(given);
            ApiKeyConfig? match = null;
            foreach (ApiKeyConfig k in _state.Config.ApiKeys)
            {
                if (ConstantTime.Equals(Encoding.UTF8.GetBytes(k.Key), givenBytes)) match = k;
            }
            return match is null || _state.IsRevoked(match.Name) ? null : match;
        }

        private static Task UnauthorizedAsync(HttpContext ctx) =>
            ErrorAsync(ctx, 401, "unauthorized", "A valid x-api-key header is required.");

        private async Task<bool> VerifySignatureAsync(HttpContext ctx, ApiKeyConfig key, byte[] body)
        {
            string? timestamp = ctx.Request.Headers[RequestSigner.TimestampHeader].FirstOrDefault();
            if (!TryParseTimestamp(timestamp, out DateTimeOffset at) || Math.Abs((DateTimeOffset.UtcNow - at).TotalSeconds) > _state.Config.SignatureWindowSeconds)
            {
                await ErrorAsync(ctx, 401, "invalid_timestamp", $"x-timestamp is missing, unreadable or more than {_state.Config.SignatureWindowSeconds} s from server time.");
                return false;
            }
            if (string.IsNullOrEmpty(key.SigningKey))
            {
                await ErrorAsync(ctx, 401, "invalid_signature", "Request signing is not enabled for this API key.");
                return false;
            }
            string path = RawPath(ctx);
            string canonical = RequestSigner.CanonicalRequest(ctx.Request.Method, path, timestamp!, Hex.ToLower(SHA256.HashData(body)));
            string signature = ctx.Request.Headers[RequestSigner.SignatureHeader].FirstOrDefault() ?? string.Empty;
            if (!RequestSigner.Verify(Encoding.UTF8.GetBytes(key.SigningKey), canonical, signature))
            {
                await ErrorAsync(ctx, 401, "invalid_signature", "The x-signature does not match the request.");
                return false;
            }
            return true;
        }

        /// <summary>The path exactly as sent (spec §11: includes a base-path prefix, no query).</summary>
        private static string RawPath(HttpContext ctx)
        {
            string raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (ctx.Request.PathBase + ctx.Request.Path).ToString();
            int q = raw.IndexOf('?');
            return q >= 0 ? raw.Substring(0, q) : raw;
        }

        public static bool TryParseTimestamp(string? text, out DateTimeOffset at)
        {
            at = default;
            if (string.IsNullOrWhiteSpace(text)) return false;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                try { at = n > 100_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds(n) : DateTimeOffset.FromUnixTimeSeconds(n); return true; }
                catch (ArgumentOutOfRangeException) { return false; }
            }
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);
        }

        private async Task<byte[]?> ReadBodyAsync(HttpContext ctx)
        {
            int max = _state.Config.MaxBodyBytes;
            if (ctx.Request.ContentLength > max) return null;
            using var ms = new MemoryStream();
            byte[] buffer = new byte[16384];
            int read;
            while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
            {
                if (ms.Length + read > max) return null;
                ms.Write(buffer, 0, read);
            }
            return ms.ToArray();
        }

        public static async Task ErrorAsync(HttpContext ctx, int status, string error, string message, JsonNode? details = null)
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            var body = new JsonObject { ["error"] = error, ["message"] = message };
            if (details != null) body["details"] = details;
            await ctx.Response.WriteAsync(body.ToJsonString(Relaxed));
        }

        private static string PublicBase(HttpContext ctx) => $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.PathBase}";

        private static string Shorten(string s) => s.Length > 64 ? s.Substring(0, 64) + "…" : s;
    }
}
