using System;
using System.Text.RegularExpressions;

namespace NenAi.Core.Logging
{
    /// <summary>
    /// Masks what must never be shown: credential headers, signatures, long hex/base64 tokens and the query
    /// string of any URL (presigned URLs carry their signature there).
    /// </summary>
    public static class Redactor
    {
        public const string Mask = "***";

        // Log lines are ours: anything that looks like "secret: value" is masked, to be safe.
        private static readonly Regex SensitiveAssignment = new Regex(
            @"(?i)\b(x-api-key|x-signature|x-hmac-signature|authorization|proxy-authorization|api[-_]?key|signing[-_]?key|secret|password|token)(\s*[:=]\s*)(""[^""]*""|'[^']*'|\S+)",
            RegexOptions.Compiled);
        // Server text is not ours: only credential headers it may echo are masked by name (its prose, such as
        // "password: should have at least 8 characters", is kept); the secrets the client sent are scrubbed by
        // value (SecretScrubber).
        private static readonly Regex CredentialHeader = new Regex(
            @"(?i)\b(x-api-key|x-signature|x-hmac-signature|authorization|proxy-authorization)(\s*:\s*)(""[^""]*""|'[^']*'|[^\r\n,;]+)",
            RegexOptions.Compiled);
        private static readonly Regex UrlUserInfo = new Regex(@"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@", RegexOptions.Compiled);
        private static readonly Regex UrlQuery = new Regex(@"(?i)\b(https?://[^\s?#""'<>]+)\?[^\s""'<>]*", RegexOptions.Compiled);
        private static readonly Regex Sha256Signature = new Regex(@"(?i)sha256=[0-9a-f]+", RegexOptions.Compiled);
        private static readonly Regex LongHex = new Regex(@"\b[0-9a-fA-F]{40,}\b", RegexOptions.Compiled);

        /// <summary>For the module's own log lines and messages.</summary>
        public static string Redact(string? text) => Apply(text, SensitiveAssignment);

        /// <summary>For text the server sent (error messages and details), after <see cref="SecretScrubber"/>.</summary>
        public static string RedactServerText(string? text) => Apply(text, CredentialHeader);

        private static string Apply(string? text, Regex names)
        {
            if (string.IsNullOrEmpty(text)) return string.Empty;
            string result = UrlUserInfo.Replace(text!, m => m.Groups[1].Value + Mask + "@");
            result = UrlQuery.Replace(result, m => m.Groups[1].Value + "?" + Mask);
            result = names.Replace(result, m => m.Groups[1].Value + m.Groups[2].Value + Mask);
            result = Sha256Signature.Replace(result, "sha256=" + Mask);
            return LongHex.Replace(result, Mask);
        }

        /// <summary>A URL safe to show: scheme, host, port and path only (no user information, no query).</summary>
        public static string Url(Uri? uri)
        {
            if (uri is null) return string.Empty;
            if (!uri.IsAbsoluteUri) return Redact(uri.OriginalString);
            string left = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
            return string.IsNullOrEmpty(uri.Query) ? left : left + "?" + Mask;
        }
    }
}
