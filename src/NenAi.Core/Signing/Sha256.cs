using System.Security.Cryptography;

namespace NenAi.Core.Signing
{
    /// <summary>
    /// SHA-256 of a byte range, for the per-row hashes (body hash, row key, Idempotency-Key). On .NET 5+ the one-shot
    /// API needs no hash object per call, which on Linux is an OpenSSL context created and freed for every row.
    /// </summary>
    public static class Sha256
    {
        public static byte[] Hash(byte[] data, int offset, int count)
        {
#if NET5_0_OR_GREATER
            return SHA256.HashData(new System.ReadOnlySpan<byte>(data, offset, count));
#else
            using var sha = SHA256.Create();
            return sha.ComputeHash(data, offset, count);
#endif
        }

        public static byte[] Hash(byte[] data) => Hash(data, 0, data.Length);
    }
}
