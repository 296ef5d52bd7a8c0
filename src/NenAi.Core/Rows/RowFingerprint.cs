using System;
using System.Collections.Generic;
using System.Text;
using NenAi.Core.Http;
using NenAi.Core.Signing;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// What the journal keeps of the values a row was sent with, so that a re-run can tell a row that changed since
    /// from the same row again, without keeping any value: two HMAC-SHA256 digests keyed by the batch (so the same row
    /// in another journal gives other digests, and no table of digests made elsewhere applies; the key is the batch id in
    /// the journal's own first line, so it is a salt, not a secret: a reader of the journal who knows a row's other
    /// values can check a guessed one, as against a row-hash key), one of the parameters'
    /// names and one of the workflow id and every parameter's name and value, as the row key's hash writes them
    /// (canonical: members in ordinal order at every level). Secure parameters are not in it at all: nothing of them,
    /// not even a digest, is in the journal, and a rotated password does not make every row "changed".
    /// "v1.&lt;names&gt;.&lt;values&gt;", 16 and 32 hex digits.
    /// </summary>
    public static class RowFingerprint
    {
        private const string Version = "v1";

        /// <summary>The fingerprint of the row whose canonical form (<see cref="RowKey.Canonical"/>) is in <paramref name="canonical"/>.</summary>
        public static string Of(string batchId, ZeroingBufferWriter canonical, IEnumerable<string> parameterNames)
        {
            if (batchId is null) throw new ArgumentNullException(nameof(batchId));
            byte[] key = Encoding.UTF8.GetBytes("nenai-row-values\n" + batchId);
            var names = new List<string>(parameterNames);
            names.Sort(StringComparer.Ordinal);
            string namesMac = Mac(key, Encoding.UTF8.GetBytes(string.Join("\n", names)), 8);
            byte[] values = new byte[canonical.WrittenCount];
            try
            {
                Buffer.BlockCopy(canonical.Buffer, 0, values, 0, values.Length);
                return Version + "." + namesMac + "." + Mac(key, values, 16);
            }
            finally
            {
                Array.Clear(values, 0, values.Length);
            }
        }

        /// <summary>How a row sent as <paramref name="sent"/> differs now (<paramref name="now"/>); null when it does not, or when either is unknown (a journal written before fingerprints: today's rule).</summary>
        public static RowChange? Compare(string? sent, string? now)
        {
            if (sent is null || now is null || string.Equals(sent, now, StringComparison.Ordinal)) return null;
            string[] a = sent.Split('.'), b = now.Split('.');
            if (a.Length != 3 || b.Length != 3 || a[0] != Version || b[0] != Version) return null; // a later version's fingerprint: not ours to judge
            return a[1] == b[1] ? RowChange.Values : RowChange.Parameters;
        }

        private static string Mac(byte[] key, byte[] message, int bytes)
        {
            byte[] mac = HmacSha256.Compute(key, message);
            try { return Hex.ToLower(mac).Substring(0, 2 * bytes); }
            finally { Array.Clear(mac, 0, mac.Length); }
        }
    }

    /// <summary>What differs in a row since it was sent, in general terms (the journal keeps no value to say more).</summary>
    public enum RowChange
    {
        /// <summary>The same parameters (or workflow) with another value in at least one.</summary>
        Values,
        /// <summary>Parameters added, removed or renamed.</summary>
        Parameters,
    }
}
