using System;
using System.Collections.Generic;
using System.Net;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Logging;

namespace NenAi.Core.Http
{
    /// <summary>Turns a non-success answer into the typed error of spec §11's table.</summary>
    public static class ApiErrorMapper
    {
        /// <param name="scrubber">The secrets the request carried: a server may quote them back (a 422 naming a bad value).</param>
        /// <param name="baseUri">The base URL the request was made under, named when a 404 says the address is wrong.</param>
        public static NenException Map(HttpStatusCode status, string? body, TimeSpan? retryAfter, string operation, SecretScrubber? scrubber = null, Uri? baseUri = null)
        {
            bool isJson = ReadBody(body, out string? error, out string? message, out var details);
            scrubber ??= SecretScrubber.None;
            error = Clean(scrubber, error);
            message = Clean(scrubber, message);
            // Not JSON (a proxy's HTML page, say): a short excerpt, cut only after scrubbing the whole body.
            if (!isJson && message != null) message = RunRequestSerializer.Shorten(message.Trim(), 200);
            for (int i = 0; i < details.Count; i++)
                details[i] = new KeyValuePair<string, string>(Clean(scrubber, details[i].Key)!, Clean(scrubber, details[i].Value)!);
            int code = (int)status;
            string id;
            NenErrorCategory category;
            bool transient = false;
            switch (code)
            {
                case 400: id = NenErrorIds.InvalidRequest; category = NenErrorCategory.InvalidArgument; break;
                case 401 when Is(error, "invalid_signature"): id = NenErrorIds.InvalidSignature; category = NenErrorCategory.SecurityError; break;
                case 401 when Is(error, "invalid_timestamp"): id = NenErrorIds.InvalidTimestamp; category = NenErrorCategory.SecurityError; break;
                case 401: id = NenErrorIds.Unauthorized; category = NenErrorCategory.AuthenticationError; break;
                case 403 when Is(error, "hmac_required_for_secure_params"): id = NenErrorIds.HmacRequired; category = NenErrorCategory.SecurityError; break;
                case 403: id = NenErrorIds.Forbidden; category = NenErrorCategory.PermissionDenied; break;
                case 404 when Is(error, "workflow_not_found"): id = NenErrorIds.WorkflowNotFound; category = NenErrorCategory.ObjectNotFound; break;
                // The API's own 404s carry a JSON error; a bare one is from whatever else answers at that address.
                case 404 when string.IsNullOrEmpty(error): id = NenErrorIds.EndpointNotFound; category = NenErrorCategory.ObjectNotFound; break;
                case 404: id = NenErrorIds.RunNotFound; category = NenErrorCategory.ObjectNotFound; break;
                case 409 when Is(error, "idempotency_key_reused"): id = NenErrorIds.IdempotencyKeyReused; category = NenErrorCategory.InvalidOperation; break;
                case 407: id = NenErrorIds.ProxyAuthenticationRequired; category = NenErrorCategory.AuthenticationError; break;
                case 408: id = NenErrorIds.Timeout; category = NenErrorCategory.OperationTimeout; transient = true; break;
                case 413: id = NenErrorIds.RequestTooLarge; category = NenErrorCategory.LimitsExceeded; break;
                case 422: id = NenErrorIds.InvalidWorkflowParams; category = NenErrorCategory.InvalidData; break;
                case 429: id = NenErrorIds.RateLimited; category = NenErrorCategory.QuotaExceeded; transient = true; break;
                case 503: id = NenErrorIds.ServiceUnavailable; category = NenErrorCategory.ResourceUnavailable; transient = true; break;
                case >= 500: id = NenErrorIds.ServerError; category = NenErrorCategory.ResourceUnavailable; transient = true; break;
                default: id = NenErrorIds.HttpError; category = NenErrorCategory.ProtocolError; break;
            }
            string text = $"{operation} failed: HTTP {code}{(Reason(status) is { Length: > 0 } reason ? " " + reason : string.Empty)}";
            if (!string.IsNullOrEmpty(error)) text += $" [{error}]";
            if (!string.IsNullOrEmpty(message)) text += $": {message}";
            // Field problems the message does not already spell out.
            var parts = new List<string>();
            foreach (var d in details)
            {
                string part = $"{d.Key}: {d.Value}";
                if (message is null || message.IndexOf(part, StringComparison.Ordinal) < 0) parts.Add(part);
            }
            if (parts.Count > 0) text += " (" + string.Join("; ", parts) + ")";
            if (retryAfter.HasValue) text = Sentence.Join(text, $"Retry after {retryAfter.Value.TotalSeconds:0.#} s.");
            if (code == 407) text = Sentence.Join(text, "The proxy wants credentials: pass -ProxyCredential, or -ProxyUseDefaultCredentials for integrated Windows authentication.");
            if (id == NenErrorIds.EndpointNotFound) text = Sentence.Join(text, EndpointHint(baseUri));
            return new NenException(id, category, text)
            {
                StatusCode = status,
                ServerError = error,
                ServerMessage = message,
                Details = details,
                RetryAfter = retryAfter,
                IsTransient = transient,
            };
        }

        /// <summary>
        /// Why a 404 without the API's JSON error most likely happened: a path on the base URL (https://api.getnen.ai/v1).
        /// Such a path is not refused up front, as a gateway in front of the API may really add one (spec section 11).
        /// </summary>
        private static string EndpointHint(Uri? baseUri)
        {
            const string where = "Check -BaseUri, Connect-NenService -BaseUri or NEN_BASE_URL.";
            string answer = "The answer is not the Nen API's (its errors are JSON with an error code), so nothing of the API is at this address.";
            if (baseUri is null) return answer + " " + where;
            string path = baseUri.AbsolutePath;
            if (path.Length <= 1) return $"{answer} Is {Redactor.Url(baseUri)} the Nen API? {where}";
            string root = baseUri.GetLeftPart(UriPartial.Authority);
            return $"{answer} The likely cause is the path '{path.TrimEnd('/')}' of the base URL {Redactor.Url(baseUri)}: the API's paths (/runs) follow "
                + $"the base URL directly, so the usual base URL is {root}. Keep such a path only if a gateway in front of the API adds it. {where}";
        }

        /// <summary>
        /// True when <paramref name="body"/> is the API's own error: a JSON object with an "error" code (spec section 11).
        /// A proxy's page, or an empty body, is not.
        /// </summary>
        public static bool IsApiError(string? body)
        {
            if (string.IsNullOrWhiteSpace(body)) return false;
            try
            {
                using var doc = JsonDocument.Parse(body!);
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out JsonElement error)
                    && error.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(error.GetString());
            }
            catch (JsonException)
            {
                return false;
            }
        }

        /// <summary>Server text loses the client's secrets (by value), echoed credential headers and URL query strings.</summary>
        private static string? Clean(SecretScrubber scrubber, string? text) => text is null ? null : Redactor.RedactServerText(scrubber.Scrub(text));

        private static bool Is(string? error, string expected) => string.Equals(error, expected, StringComparison.OrdinalIgnoreCase);

        private static string Reason(HttpStatusCode status) => Enum.IsDefined(typeof(HttpStatusCode), status) ? status.ToString() : string.Empty;

        /// <summary>False when the body is not JSON; <paramref name="message"/> is then the whole body.</summary>
        private static bool ReadBody(string? body, out string? error, out string? message, out List<KeyValuePair<string, string>> details)
        {
            error = null; message = null; details = new List<KeyValuePair<string, string>>();
            if (string.IsNullOrWhiteSpace(body)) return true;
            try
            {
                using var doc = JsonDocument.Parse(body!);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return true;
                error = TextOf(doc.RootElement, "error");
                message = TextOf(doc.RootElement, "message");
                if (doc.RootElement.TryGetProperty("details", out JsonElement d) && d.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement item in d.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object) continue;
                        details.Add(new KeyValuePair<string, string>(TextOf(item, "field") ?? "?", TextOf(item, "problem") ?? "invalid"));
                    }
                }
            }
            catch (JsonException)
            {
                message = body;
                return false;
            }
            return true;
        }

        private static string? TextOf(JsonElement e, string name) =>
            e.TryGetProperty(name, out JsonElement v) ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;
    }
}
