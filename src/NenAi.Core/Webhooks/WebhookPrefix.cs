using System;
using NenAi.Core.Errors;
using NenAi.Core.Logging;

namespace NenAi.Core.Webhooks
{
    /// <summary>Checks an HttpListener prefix before the listener sees it, so a typo is an error that says what is wrong.</summary>
    public static class WebhookPrefix
    {
        /// <summary>The prefix as HttpListener wants it (a missing trailing slash added), or an error naming the problem.</summary>
        public static string Check(string? prefix)
        {
            string text = (prefix ?? string.Empty).Trim();
            if (text.Length == 0) throw Invalid(text, "it is empty");
            if (!text.EndsWith("/", StringComparison.Ordinal)) text += "/";
            // HttpListener's wildcard hosts: + (every name, strong) and * (every name not otherwise taken).
            int hostStart = text.IndexOf("://", StringComparison.Ordinal);
            string probe = hostStart > 0 && text.Length > hostStart + 3 && (text[hostStart + 3] == '+' || text[hostStart + 3] == '*')
                ? text.Substring(0, hostStart + 3) + "localhost" + text.Substring(hostStart + 4)
                : text;
            if (!Uri.TryCreate(probe, UriKind.Absolute, out Uri? uri)) throw Invalid(text, "it is not an absolute URL");
            if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) throw Invalid(text, $"its scheme is '{uri.Scheme}', not http or https");
            if (!string.IsNullOrEmpty(uri.UserInfo)) throw Invalid(text, "it carries user information");
            if (uri.Query.Length > 0 || uri.Fragment.Length > 0 || text.IndexOfAny(new[] { '?', '#' }) >= 0) throw Invalid(text, "it has a query or fragment");
            return text;
        }

        private static NenException Invalid(string prefix, string problem) =>
            new NenException(NenErrorIds.InvalidWebhookPrefix, NenErrorCategory.InvalidArgument,
                $"-Prefix '{Redactor.Redact(prefix)}' cannot be listened on: {problem}. Give an HttpListener prefix such as 'http://+:8089/nen/' (every host name) or 'http://127.0.0.1:8089/nen/' (loopback, behind a reverse proxy).");
    }
}
