using System;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using NenAi.Core.Errors;
using NenAi.Core.Logging;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Answers that come from a proxy rather than the service, told as the proxy's: a 407, a 401 that carries
    /// Proxy-Authenticate or is not the API's JSON error (tinyproxy answers wrong credentials with 401 and an HTML page),
    /// and a tunnel (CONNECT) the proxy would not open. Their messages name the proxy and -Proxy/-ProxyCredential, never
    /// the API key.
    /// </summary>
    public static class ProxyAnswers
    {
        /// <summary>
        /// True when a non-success answer to a request that went through <paramref name="proxy"/> is the proxy's refusal
        /// of its credentials. A 407 always is. A 401 is when it asks for proxy credentials (Proxy-Authenticate) or, through
        /// a proxy, is not the API's own JSON error; the API's 401 ({"error":"unauthorized"}) stays the API key's. A 401
        /// that came through a tunnel (<paramref name="throughTunnel"/>) is the server's whatever its body: the proxy only
        /// relays the tunnel's bytes (a gateway in front of the API may answer with a page of its own).
        /// </summary>
        /// <param name="throughTunnel">The answer came inside an https tunnel the proxy opened (see <see cref="AnswersComeThroughTunnel"/>).</param>
        public static bool IsCredentialRefusal(int status, bool proxyAuthenticate, string? body, Uri? proxy, bool throughTunnel) =>
            status == 407 || (status == 401 && !throughTunnel && (proxyAuthenticate || (proxy != null && !ApiErrorMapper.IsApiError(body))));

        /// <summary>
        /// True when an answer to <paramref name="target"/> can only have come through a tunnel, so never from the proxy:
        /// https on .NET, which reports a tunnel the proxy would not open as an exception. .NET Framework hands the proxy's
        /// answer to a refused CONNECT back as the response itself, so there an https answer may still be the proxy's.
        /// </summary>
        public static bool AnswersComeThroughTunnel(Uri target, bool netFramework) =>
            !netFramework && target.Scheme == Uri.UriSchemeHttps;

        /// <summary>The proxy's refusal of its credentials (an answer, or the status of a refused tunnel), naming the proxy.</summary>
        /// <param name="credentialsGiven">-ProxyCredential or -ProxyUseDefaultCredentials was used.</param>
        public static ProxyRefusedException CredentialsRefused(string operation, Uri? proxy, int status, string? body, SecretScrubber? scrubber, bool credentialsGiven, Exception? inner = null)
        {
            string who = Who(proxy);
            string what = credentialsGiven ? "refused the proxy credentials" : "asks for credentials, and none were given";
            string page = Excerpt(body, scrubber);
            return new ProxyRefusedException(NenErrorIds.ProxyAuthenticationRequired, NenErrorCategory.AuthenticationError,
                $"{operation} failed: {who} {what} (HTTP {status} {Reason(status)}{(page.Length > 0 ? ": " + page : string.Empty)}). Nothing reached the service.",
                proxy, inner) { StatusCode = (HttpStatusCode)status };
        }

        /// <summary>
        /// A tunnel the proxy would not open for a reason other than credentials: a 4xx is its policy (every request would
        /// meet it), so a <see cref="ProxyRefusedException"/>; a 5xx says it could not reach the server, so a transport
        /// failure that provably sent nothing (retried like a server that cannot be reached).
        /// </summary>
        public static NenException TunnelRefused(string request, Uri target, Uri? proxy, int status, Exception inner)
        {
            string who = Who(proxy);
            string to = $"{target.Host}:{target.Port}";
            if (status >= 500)
                return new NenTransportException($"{request} failed: {who} could not open a tunnel to {to} (HTTP {status} {Reason(status)}): it did not reach the server. Nothing was sent.",
                    provablyNotSent: true, inner);
            return new ProxyRefusedException(NenErrorIds.NetworkError, NenErrorCategory.ConnectionError,
                $"{request} failed: {who} refused to open a tunnel to {to} (HTTP {status} {Reason(status)}). Nothing was sent.", proxy, inner)
            { StatusCode = (HttpStatusCode)status };
        }

        private static string Who(Uri? proxy) => proxy is null ? "the proxy" : "the proxy " + Redactor.Url(proxy);

        private static string Reason(int status) =>
            Enum.IsDefined(typeof(HttpStatusCode), status) ? ((HttpStatusCode)status).ToString() : string.Empty;

        /// <summary>A proxy's page as one short line of its text: tags, scripts and runs of spaces gone, secrets scrubbed, ASCII.</summary>
        internal static string Excerpt(string? body, SecretScrubber? scrubber)
        {
            if (string.IsNullOrWhiteSpace(body)) return string.Empty;
            string text = Regex.Replace(body!, @"<(script|style)\b.*?</\1\s*>", " ", RegexOptions.Singleline | RegexOptions.IgnoreCase);
            text = Regex.Replace(text, @"<!DOCTYPE[^>]*>|<[^>]*>", " ");
            text = WebUtility.HtmlDecode(text);
            text = Redactor.RedactServerText((scrubber ?? SecretScrubber.None).Scrub(text));
            var sb = new StringBuilder(Math.Min(text.Length, 240));
            bool space = false;
            foreach (char c in text)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = sb.Length > 0; continue; }
                if (space) { sb.Append(' '); space = false; }
                sb.Append(c < 0x80 ? c : '?');
                if (sb.Length >= 200) { sb.Append("..."); break; }
            }
            return sb.ToString();
        }
    }
}
