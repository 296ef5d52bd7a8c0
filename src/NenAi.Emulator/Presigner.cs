using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NenAi.Core.Signing;

namespace NenAi.Emulator
{
    /// <summary>
    /// Presigned download URLs like S3's: the expiry and an HMAC travel in the query string, so a download
    /// needs no API key. The key is random per emulator process.
    /// </summary>
    public sealed class Presigner
    {
        private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

        public string Sign(string baseUrl, string messageId, int index, long expires)
        {
            string sig = Signature(messageId, index, expires);
            return $"{baseUrl.TrimEnd('/')}/files/{Uri.EscapeDataString(messageId)}/{index}?expires={expires.ToString(CultureInfo.InvariantCulture)}&sig={sig}";
        }

        public bool Verify(string messageId, int index, string? expires, string? sig, DateTimeOffset now, out bool expired)
        {
            expired = false;
            if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out long at)) return false;
            if (!HmacSha256.VerifyHex(_key, Message(messageId, index, at), sig)) return false;
            expired = now.ToUnixTimeSeconds() > at;
            return !expired;
        }

        private string Signature(string messageId, int index, long expires) => HmacSha256.ComputeHex(_key, Message(messageId, index, expires));

        private static byte[] Message(string messageId, int index, long expires) =>
            Encoding.UTF8.GetBytes(messageId.ToLowerInvariant() + "\n" + index.ToString(CultureInfo.InvariantCulture) + "\n" + expires.ToString(CultureInfo.InvariantCulture));
    }
}
