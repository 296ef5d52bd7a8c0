using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Security;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Http;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// Writes a workflow parameter's value as JSON, faithfully or not at all: text as text, numbers and booleans by
    /// their type, dates as ISO 8601, dictionaries as objects and lists (any enumerable) as arrays, at any depth. A value
    /// with no JSON form (NaN, infinity, a lone surrogate, a SecureString, an object of no known shape, a structure
    /// deeper than <see cref="MaxDepth"/>) is a <see cref="NenErrorIds.InvalidParameterValue"/> naming where it is,
    /// never something else sent in its place. The body, the row hash and the validation of a row all write through here.
    /// </summary>
    public static class ParameterValues
    {
        /// <summary>Nesting deeper than this is refused (it also ends a structure that refers to itself).</summary>
        public const int MaxDepth = 32;

        /// <summary>Writes <paramref name="value"/>, the value of the parameter <paramref name="name"/>.</summary>
        /// <param name="canonical">Object members in ordinal order at every level (for a hash that must not depend on order).</param>
        public static void Write(Utf8JsonWriter writer, string name, object? value, bool canonical = false) =>
            WriteValue(writer, value, name, 0, canonical);

        /// <summary>Throws the row's error when any value has no JSON form; writes nothing anywhere.</summary>
        public static void Check(IEnumerable<KeyValuePair<string, object?>> parameters)
        {
            using var sink = new ZeroingBufferWriter(256);
            using var writer = new Utf8JsonWriter(sink);
            writer.WriteStartArray();
            foreach (var pair in parameters) Write(writer, pair.Key, pair.Value);
            writer.WriteEndArray();
        }

        private static void WriteValue(Utf8JsonWriter writer, object? value, string path, int depth, bool canonical)
        {
            if (depth > MaxDepth)
                throw Refused(path, $"nests deeper than {MaxDepth} levels (a structure that refers to itself?)");
            switch (value)
            {
                case null: writer.WriteNullValue(); return;
                case string s:
                    if (!RunRequestSerializer.IsWellFormedUtf16(s.AsSpan())) throw Refused(path, "holds text that is not valid Unicode (a lone surrogate)");
                    writer.WriteStringValue(s);
                    return;
                case char c:
                    if (char.IsSurrogate(c)) throw Refused(path, "holds text that is not valid Unicode (a lone surrogate)");
                    writer.WriteStringValue(c.ToString());
                    return;
                case bool b: writer.WriteBooleanValue(b); return;
                case byte or sbyte or short or ushort or int or uint or long: writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); return;
                case ulong ul: writer.WriteNumberValue(ul); return;
                case float f: WriteDouble(writer, f, path); return;
                case double d: WriteDouble(writer, d, path); return;
                case decimal m: writer.WriteNumberValue(m); return;
                case BigInteger big: writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture)); return;
                case DateTime dt: writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); return;
                case DateTimeOffset dto: writer.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); return;
                case TimeSpan ts: writer.WriteStringValue(ts.ToString("c", CultureInfo.InvariantCulture)); return;
                case Guid g: writer.WriteStringValue(g.ToString("D")); return;
                case Enum e: writer.WriteStringValue(e.ToString()); return;
                case Uri u: writer.WriteStringValue(u.OriginalString); return;
                case Version v: writer.WriteStringValue(v.ToString()); return;
                case SecureString _:
                    throw Refused(path, "holds a SecureString; secrets travel in -SecureParameter, which sends them only in signed requests");
                case IDictionary dict:
                    WriteObject(writer, Members(dict), path, depth, canonical);
                    return;
                case IEnumerable<KeyValuePair<string, object?>> pairs:
                    WriteObject(writer, pairs, path, depth, canonical);
                    return;
                case IEnumerable list:
                    writer.WriteStartArray();
                    int i = 0;
                    foreach (object? item in list) WriteValue(writer, item, $"{path}[{i++}]", depth + 1, canonical);
                    writer.WriteEndArray();
                    return;
                default:
                    throw Refused(path, $"holds a {value.GetType().FullName}, which has no JSON form here; send text, a number, a boolean, a date, a hashtable, a [pscustomobject] or an array of these");
            }
        }

        private static IEnumerable<KeyValuePair<string, object?>> Members(IDictionary dict)
        {
            foreach (DictionaryEntry entry in dict)
                yield return new KeyValuePair<string, object?>(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty, entry.Value);
        }

        private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> members, string path, int depth, bool canonical)
        {
            IEnumerable<KeyValuePair<string, object?>> ordered = members;
            if (canonical)
            {
                var sorted = new List<KeyValuePair<string, object?>>(members);
                sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                ordered = sorted;
            }
            writer.WriteStartObject();
            foreach (var member in ordered)
            {
                string memberPath = path + "." + member.Key;
                if (!RunRequestSerializer.IsWellFormedUtf16(member.Key.AsSpan())) throw Refused(memberPath, "has a name that is not valid Unicode (a lone surrogate)");
                writer.WritePropertyName(member.Key);
                WriteValue(writer, member.Value, memberPath, depth + 1, canonical);
            }
            writer.WriteEndObject();
        }

        private static void WriteDouble(Utf8JsonWriter writer, double d, string path)
        {
            if (double.IsNaN(d) || double.IsInfinity(d)) throw Refused(path, $"is {d.ToString(CultureInfo.InvariantCulture)}, which has no JSON form (JSON numbers are finite)");
            writer.WriteNumberValue(d);
        }

        private static NenException Refused(string path, string problem) =>
            new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidData,
                $"The parameter '{path}' {problem}; the row was not sent.");
    }
}
