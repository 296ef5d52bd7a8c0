using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Signing;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// The identity of an input row in the journal: a named column's value, or a hash of the workflow id and
    /// the (non-secret) parameters. Secure values never enter the hash.
    /// </summary>
    public static class RowKey
    {
        public static string FromColumn(string column, object? value)
        {
            string text = Convert.ToString(value, CultureInfo.InvariantCulture)?.Trim() ?? string.Empty;
            if (text.Length == 0)
                throw new NenException(NenErrorIds.DuplicateRowKey, NenErrorCategory.InvalidData, $"The key column '{column}' is empty in this row.");
            return "col:" + text;
        }

        /// <summary>Order-insensitive at every level: the same cells (and nested members) in another order give the same key.</summary>
        public static string Hash(string workflowId, IEnumerable<KeyValuePair<string, object?>> parameters)
        {
            using ZeroingBufferWriter buffer = Canonical(workflowId, parameters);
            return HashOf(buffer);
        }

        /// <summary>The row hash of a row already written in canonical form (<see cref="Canonical"/>).</summary>
        public static string HashOf(ZeroingBufferWriter canonical) => "sha256:" + Hex.ToLower(Sha256.Hash(canonical.Buffer, 0, canonical.WrittenCount));

        /// <summary>
        /// The row as its hash and its fingerprint (<see cref="RowFingerprint"/>) see it: the workflow id, then every
        /// parameter in ordinal order, members in ordinal order at every level. A value with no JSON form throws the
        /// row's error. The caller disposes the buffer (which zeroes it).
        /// </summary>
        public static ZeroingBufferWriter Canonical(string workflowId, IEnumerable<KeyValuePair<string, object?>> parameters)
        {
            var sorted = new List<KeyValuePair<string, object?>>(parameters);
            sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var buffer = new ZeroingBufferWriter(256);
            try
            {
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartArray();
                    writer.WriteStringValue(workflowId.Trim().ToLowerInvariant());
                    writer.WriteStartObject();
                    foreach (var pair in sorted)
                    {
                        writer.WritePropertyName(pair.Key);
                        ParameterValues.Write(writer, pair.Key, pair.Value, canonical: true);
                    }
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                }
                return buffer;
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The value a person knows the row by: the -KeyProperty column's value of a "col:" key (a key already in that
        /// form is kept); null for a row hash, which names no row a person could find.
        /// </summary>
        public static string? ValueOf(string? key)
        {
            if (string.IsNullOrEmpty(key) || key!.StartsWith("sha256:", StringComparison.Ordinal)) return null;
            return key.StartsWith("col:", StringComparison.Ordinal) ? key.Substring(4) : key;
        }

        /// <summary>
        /// The one form of the RowKey every output object and export shows: the -KeyProperty value ("2001"), else the
        /// row's number in the command's input ("row 3", as messages name it); null when neither is known (a journal
        /// written before rows were numbered, a run that came from no row).
        /// </summary>
        public static string? Readable(string? journalKey, int rowNumber) =>
            ValueOf(journalKey) ?? (rowNumber > 0 ? RowLabel.For(rowNumber, null, null) : null);

        /// <summary>A row key as a message shows it: the column value, or the start of the row hash.</summary>
        public static string Describe(string key) =>
            key.StartsWith("col:", StringComparison.Ordinal) ? "key '" + key.Substring(4) + "'" : "row hash " + key.Substring(0, Math.Min(key.Length, 19));

        /// <summary>
        /// The Idempotency-Key of a keyed row: scoped to its batch, so a re-run with the same journal reuses it while
        /// a new batch (a new journal, or none) never gets an earlier batch's runs back.
        /// </summary>
        public static string IdempotencyKey(string batchId, string workflowId, string rowKey)
        {
            byte[] hash = Sha256.Hash(Encoding.UTF8.GetBytes(batchId + "\n" + workflowId.Trim().ToLowerInvariant() + "\n" + rowKey));
            return "nenai-" + Hex.ToLower(hash).Substring(0, 40);
        }
    }
}
