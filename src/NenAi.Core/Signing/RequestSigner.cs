using System;
using System.Globalization;
using System.Text;
using NenAi.Core.Configuration;

namespace NenAi.Core.Signing
{
    /// <summary>
    /// Spec §3 / §11: <c>x-signature = hex(HMAC-SHA256(utf8(signing key), METHOD\nPATH\nTIMESTAMP\nBODY_HASH))</c>
    /// with BODY_HASH the lowercase hex SHA-256 of the exact body bytes.
    /// </summary>
    public static class RequestSigner
    {
        public const string ApiKeyHeader = "x-api-key";
        public const string TimestampHeader = "x-timestamp";
        public const string SignatureHeader = "x-signature";

        public static string BodyHash(byte[] body, int count)
        {
            return Hex.ToLower(Sha256.Hash(body, 0, count));
        }

        public static string CanonicalRequest(string method, string path, string timestamp, string bodyHash) =>
            method.ToUpperInvariant() + "\n" + path + "\n" + timestamp + "\n" + bodyHash;

        public static string UnixSeconds(DateTimeOffset now) =>
            now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        /// <summary>Signs with the secret's UTF-8 bytes; key and HMAC state are zeroed afterwards.</summary>
        public static string Sign(SecretValue signingKey, string canonicalRequest) =>
            signingKey.UseUtf8(key => HmacSha256.ComputeHex(key, Encoding.UTF8.GetBytes(canonicalRequest)));

        /// <summary>Server side: does <paramref name="signature"/> match? Constant-time.</summary>
        public static bool Verify(byte[] key, string canonicalRequest, string signature) =>
            HmacSha256.VerifyHex(key, Encoding.UTF8.GetBytes(canonicalRequest), signature);
    }
}
