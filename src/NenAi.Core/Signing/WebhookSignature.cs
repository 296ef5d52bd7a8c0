using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;

namespace NenAi.Core.Signing
{
    /// <summary>The answer of a webhook check, with a reason fit for -Verbose (never a secret).</summary>
    public readonly struct WebhookVerification(bool isValid, string reason, int matchedSecretIndex = -1)
    {
        public bool IsValid { get; } = isValid;
        public string Reason { get; } = reason;
        /// <summary>Which of several rotated secrets matched, or -1.</summary>
        public int MatchedSecretIndex { get; } = matchedSecretIndex;
    }

    /// <summary>
    /// Spec §6.4: <c>X-Hmac-Signature: sha256=</c> + lowercase hex HMAC-SHA256(utf8(secret), raw body). A receiver
    /// also accepts an upper-case prefix or hex digits (proxies and frameworks rewrite headers); the bytes are
    /// what is compared, in constant time.
    /// </summary>
    public static class WebhookSignature
    {
        public const string HeaderName = "X-Hmac-Signature";
        public const string Prefix = "sha256=";
        /// <summary>Bodies beyond this are refused rather than hashed (a receiver should never see one).</summary>
        public const int MaxBodyBytes = 16 * 1024 * 1024;

        public static string Compute(byte[] secret, byte[] body) => Prefix + HmacSha256.ComputeHex(secret, body);

        public static string Compute(SecretValue secret, byte[] body) => secret.UseUtf8(key => Compute(key, body));

        /// <summary>Finds the signature header in any header dictionary, ignoring case.</summary>
        public static string? FindHeader(IEnumerable<KeyValuePair<string, string?>> headers)
        {
            foreach (var pair in headers)
            {
                if (string.Equals(pair.Key?.Trim(), HeaderName, StringComparison.OrdinalIgnoreCase)) return pair.Value;
            }
            return null;
        }

        /// <summary>Checks the body against every secret (key rotation); constant-time per comparison.</summary>
        public static WebhookVerification Verify(byte[]? body, string? signature, IReadOnlyList<SecretValue> secrets)
        {
            if (secrets.Count == 0) return new WebhookVerification(false, "No webhook secret was given.");
            if (body is null || body.Length == 0) return new WebhookVerification(false, "The body is empty.");
            if (body.Length > MaxBodyBytes) return new WebhookVerification(false, $"The body is larger than {MaxBodyBytes} bytes.");
            if (string.IsNullOrEmpty(signature)) return new WebhookVerification(false, "The signature is missing.");
            string value = signature!.Trim();
            if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
                return new WebhookVerification(false, $"The signature does not start with '{Prefix}'.");
            string hex = value.Substring(Prefix.Length);
            if (hex.Length != 64) return new WebhookVerification(false, $"The signature has {hex.Length} hex digits; 64 are expected.");
            if (!Hex.TryParseAnyCase(hex, out byte[] given))
                return new WebhookVerification(false, "The signature is not hexadecimal.");

            bool anyMatch = false;
            int matched = -1;
            for (int i = 0; i < secrets.Count; i++)
            {
                byte[] expected = secrets[i].UseUtf8(key => HmacSha256.Compute(key, body));
                // Every secret is tried so the time does not reveal which one matched.
                bool equal = ConstantTime.Equals(expected, given);
                Array.Clear(expected, 0, expected.Length);
                if (equal && !anyMatch) { anyMatch = true; matched = i; }
            }
            return anyMatch
                ? new WebhookVerification(true, $"The signature matches secret #{matched + 1}.", matched)
                : new WebhookVerification(false, "The signature does not match any webhook secret.");
        }
    }
}
