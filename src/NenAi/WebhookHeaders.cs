using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Management.Automation;
using NenAi.Core.Errors;

namespace NenAi
{
    /// <summary>
    /// Reads whatever header collection a webhook receiver has as name/value pairs: a hashtable or any dictionary,
    /// a NameValueCollection (HttpListener's WebHeaderCollection), or an enumerable of pairs (KeyValuePair,
    /// DictionaryEntry, objects with Name/Value or Key/Value properties). A value that is a list (string[],
    /// StringValues) counts by its first item. Problems name the shape, never a value: headers carry credentials.
    /// </summary>
    internal static class WebhookHeaders
    {
        public static List<KeyValuePair<string, string?>> Read(object? headers)
        {
            object? value = Unwrap(headers);
            var pairs = new List<KeyValuePair<string, string?>>();
            switch (value)
            {
                case null:
                    throw Invalid("-Headers is empty (null).");
                case string _:
                    throw Invalid("-Headers is a String; pass the whole header collection (for example $context.Request.Headers), or the signature itself with -Signature.");
                case NameValueCollection collection:
                    foreach (string? name in collection.AllKeys)
                    {
                        string[]? values = name is null ? null : collection.GetValues(name);
                        pairs.Add(new KeyValuePair<string, string?>(name ?? string.Empty, values is null || values.Length == 0 ? null : values[0]));
                    }
                    return pairs;
                case IDictionary dictionary:
                    foreach (DictionaryEntry entry in dictionary) pairs.Add(new KeyValuePair<string, string?>(entry.Key?.ToString() ?? string.Empty, Text(entry.Value)));
                    return pairs;
                case IEnumerable items:
                    int index = 0;
                    foreach (object? item in items)
                    {
                        if (!TryReadPair(item, out KeyValuePair<string, string?> pair))
                            throw Invalid($"Item #{index + 1} of -Headers ({TypeName(item)}) is not a name/value pair.");
                        pairs.Add(pair);
                        index++;
                    }
                    return pairs;
            }
            // A single pair (PowerShell unrolls a one-item list).
            if (TryReadPair(headers, out KeyValuePair<string, string?> single))
            {
                pairs.Add(single);
                return pairs;
            }
            throw Invalid($"-Headers is a {TypeName(value)}, which is not a header collection.");
        }

        /// <summary>A KeyValuePair, a DictionaryEntry or any object with Name (or Key) and Value properties.</summary>
        private static bool TryReadPair(object? item, out KeyValuePair<string, string?> pair)
        {
            pair = default;
            object? value = Unwrap(item);
            if (value is null || value is string) return false;
            if (value is DictionaryEntry entry)
            {
                pair = new KeyValuePair<string, string?>(entry.Key?.ToString() ?? string.Empty, Text(entry.Value));
                return true;
            }
            PSObject wrapper = PSObject.AsPSObject(item!);
            PSPropertyInfo? name = wrapper.Properties["Name"] ?? wrapper.Properties["Key"];
            PSPropertyInfo? text = wrapper.Properties["Value"];
            if (name is null || text is null) return false;
            pair = new KeyValuePair<string, string?>(Unwrap(name.Value)?.ToString() ?? string.Empty, Text(text.Value));
            return true;
        }

        /// <summary>Frameworks hand header values over as lists (string[], StringValues): the first one counts.</summary>
        private static string? Text(object? value)
        {
            value = Unwrap(value);
            if (value is null || value is string) return (string?)value;
            if (value is IEnumerable list)
            {
                foreach (object? item in list) return Unwrap(item)?.ToString();
                return null;
            }
            return value.ToString();
        }

        private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

        private static string TypeName(object? value) => value is null ? "null" : (Unwrap(value) ?? value).GetType().FullName ?? "object";

        private static NenException Invalid(string problem) =>
            new NenException(NenErrorIds.InvalidWebhookHeaders, NenErrorCategory.InvalidArgument,
                problem + " -Headers takes a hashtable or dictionary, a NameValueCollection such as HttpListener's Request.Headers, or a list of name/value pairs.");
    }
}
