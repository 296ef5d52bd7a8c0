using System;
using System.Net;
using System.Net.Http;
using NenAi.Core.Errors;
using NenAi.Core.Logging;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Answers that are not the Nen API's (spec section 11): a redirect (the API never redirects), a success whose body
    /// is not the JSON the contract requires (a captive portal's or a proxy's page, a truncated body, an object without
    /// the fields), and a status the contract does not define. What every request of a batch would meet alike, so the
    /// one <see cref="BatchCircuit"/> judges them (a redirect at once, the others after a few in a row) instead of each
    /// row or run reporting its own. Valid JSON with unknown fields or statuses is the API's (tolerant reader).
    /// </summary>
    public static class ForeignAnswers
    {
        private const int ExcerptChars = 120;

        /// <summary>
        /// The redirect error for a 3xx with a Location, else null. The Location is named by scheme, host, port and path
        /// only: its query string may carry a portal's session or a token.
        /// </summary>
        public static NenException? Redirect(HttpResponseMessage response, Uri requestUri, string operation)
        {
            int code = (int)response.StatusCode;
            if (code < 300 || code > 399 || code == 304 || response.Headers.Location is null) return null;
            Uri target = response.Headers.Location.IsAbsoluteUri ? response.Headers.Location : new Uri(requestUri, response.Headers.Location);
            return Redirected(response.StatusCode, target, requestUri, operation);
        }

        /// <summary>The error for an answer <paramref name="status"/> redirecting <paramref name="requestUri"/> to <paramref name="target"/>.</summary>
        public static NenException Redirected(HttpStatusCode status, Uri target, Uri requestUri, string operation)
        {
            string where = Where(target);
            bool otherHost = !string.Equals(requestUri.Host, target.Host, StringComparison.OrdinalIgnoreCase);
            bool toHttps = requestUri.Scheme == Uri.UriSchemeHttp && target.Scheme == Uri.UriSchemeHttps && !otherHost;
            string likely = toHttps ? "the server moves http:// to https://, so -BaseUri should be the https:// address"
                : otherHost ? "a proxy or captive portal that wants a login, or a base URL that is not the API's"
                : "a base URL that is not the API's (its path, or a gateway in front of it)";
            return new NenException(NenErrorIds.Redirected, NenErrorCategory.InvalidArgument,
                $"{operation} failed: HTTP {(int)status}{Reason(status)}, a redirect to {where}. It was not followed (the API key is not sent to another address), and the Nen API does not redirect: "
                + $"the likely cause is {likely}. Correct -BaseUri (or NEN_BASE_URL, or the session's).")
            {
                StatusCode = status,
            };
        }

        /// <summary>
        /// A 2xx whose body is not the API's JSON: what came back (status, content type, an excerpt of a body that is not
        /// JSON), and what it may be. <paramref name="why"/> says what was missing ("no readable messageId").
        /// </summary>
        public static NenException NotTheApisJson(HttpStatusCode status, string? contentType, string? body, string operation, string why, Exception? inner, SecretScrubber? scrubber = null)
        {
            return new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                $"{operation}: the server answered {Answered(status, contentType)}, not the Nen API's JSON ({why}{Excerpt(body, scrubber)}): a captive portal, a proxy's page or a wrong -BaseUri?", inner)
            {
                StatusCode = status,
            };
        }

        /// <summary>"HTTP 200 OK with text/html", "HTTP 202 Accepted with no content type".</summary>
        public static string Answered(HttpStatusCode status, string? contentType) =>
            $"HTTP {(int)status}{Reason(status)} with {(string.IsNullOrWhiteSpace(contentType) ? "no content type" : contentType)}";

        /// <summary>
        /// True for an answer that is not the Nen API's in a way every request would meet: a body that is not its JSON
        /// (<see cref="NenErrorIds.UnexpectedResponse"/>) or a status its contract does not define (<see cref="NenErrorIds.HttpError"/>).
        /// </summary>
        public static bool IsForeign(NenException error) =>
            error.StatusCode.HasValue && (error.ErrorId == NenErrorIds.UnexpectedResponse || error.ErrorId == NenErrorIds.HttpError);

        /// <summary>The address a redirect names, safe to show: scheme, host, port and path, never user information or the query.</summary>
        public static string Where(Uri target) =>
            target.IsAbsoluteUri ? target.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : Redactor.Url(target);

        private static string Excerpt(string? body, SecretScrubber? scrubber)
        {
            if (string.IsNullOrWhiteSpace(body)) return "; the body was empty";
            string text = Redactor.RedactServerText((scrubber ?? SecretScrubber.None).Scrub(body!.Trim()));
            text = RunRequestSerializer.Shorten(text.Replace('\r', ' ').Replace('\n', ' '), ExcerptChars);
            return $"; it began: {text}";
        }

        /// <summary>" Found" (with its space), or nothing for a status .NET has no name for.</summary>
        private static string Reason(HttpStatusCode status) => Enum.IsDefined(typeof(HttpStatusCode), status) ? " " + status.ToString() : string.Empty;
    }
}
