using System;
using System.Security.Cryptography;

namespace NenAi.Core.Signing
{
    /// <summary>
    /// The one HMAC-SHA256 used by request signing, webhook signatures and the emulator's presigned URLs:
    /// lowercase hex out, constant-time comparison in, MAC buffers zeroed after use.
    /// </summary>
    public static class HmacSha256
    {
        /// <summary>The raw MAC; the caller owns (and should clear) the returned bytes.</summary>
        public static byte[] Compute(byte[] key, byte[] message)
        {
#if NET6_0_OR_GREATER
            return HMACSHA256.HashData(key, message); // one shot: no HMAC object (an OpenSSL context on Linux) per request
#else
            using var hmac = new HMACSHA256(key);
            return hmac.ComputeHash(message);
#endif
        }

        public static string ComputeHex(byte[] key, byte[] message)
        {
            byte[] mac = Compute(key, message);
            try { return Hex.ToLower(mac); }
            finally { Array.Clear(mac, 0, mac.Length); }
        }

        /// <summary>Does the lowercase-hex <paramref name="signature"/> match? Constant-time; upper case never matches.</summary>
        public static bool VerifyHex(byte[] key, byte[] message, string? signature)
        {
            if (signature is null || !Hex.TryParseLower(signature, out byte[] given)) return false;
            byte[] expected = Compute(key, message);
            try { return ConstantTime.Equals(expected, given); }
            finally { Array.Clear(expected, 0, expected.Length); }
        }
    }
}
