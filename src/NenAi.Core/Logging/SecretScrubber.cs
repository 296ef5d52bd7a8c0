using System;
using System.Collections.Generic;
using System.Text;
using NenAi.Core.Configuration;

namespace NenAi.Core.Logging
{
    /// <summary>
    /// Removes the values of the secrets a request carried (API key, signing key, secure parameters) from text
    /// the server sent back, such as a 422 message that quotes an input value. The client knows its secrets, so
    /// it scrubs them by value: exact, and without mangling ordinary words the way keyword guessing does.
    /// </summary>
    public sealed class SecretScrubber
    {
        /// <summary>Shorter secrets would erase ordinary characters; text quoting one is withheld instead.</summary>
        public const int MinimumLength = 4;
        public const string Withheld = "(the service's text was withheld: it quoted a secret value)";
        public static readonly SecretScrubber None = new SecretScrubber(Array.Empty<SecretValue>());

        private readonly List<SecretValue> _secrets = new List<SecretValue>();

        public SecretScrubber(IEnumerable<SecretValue?> secrets)
        {
            foreach (SecretValue? s in secrets) if (s != null && !s.IsEmpty) _secrets.Add(s);
        }

        public string? Scrub(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text;
            string result = text!;
            foreach (SecretValue secret in _secrets)
            {
                string? scrubbed = secret.UseChars(chars => Replace(result, chars));
                if (scrubbed is null) return Withheld;
                result = scrubbed;
            }
            return result;
        }

        /// <summary>Every occurrence of <paramref name="secret"/> masked; null when a too-short secret occurs.</summary>
        private static string? Replace(string text, char[] secret)
        {
            int at = text.AsSpan().IndexOf(secret.AsSpan(), StringComparison.Ordinal);
            if (at < 0) return text;
            if (secret.Length < MinimumLength) return null;
            var sb = new StringBuilder(text.Length);
            int from = 0;
            while (at >= 0)
            {
                sb.Append(text, from, at - from).Append(Redactor.Mask);
                from = at + secret.Length;
                int next = text.AsSpan(from).IndexOf(secret.AsSpan(), StringComparison.Ordinal);
                at = next < 0 ? -1 : from + next;
            }
            return sb.Append(text, from, text.Length - from).ToString();
        }
    }
}
