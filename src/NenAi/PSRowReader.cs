using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace NenAi
{
    /// <summary>Reads a pipeline object (CSV row, hashtable, any object) as column → value pairs.</summary>
    internal static class PSRowReader
    {
        public static List<KeyValuePair<string, object?>>? Read(PSObject? row)
        {
            if (row is null) return null;
            var cells = new List<KeyValuePair<string, object?>>();
            if (row.BaseObject is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary) cells.Add(new KeyValuePair<string, object?>(entry.Key?.ToString() ?? string.Empty, Unwrap(entry.Value)));
                return cells;
            }
            if (row.BaseObject is string || row.BaseObject.GetType().IsPrimitive) return null;
            foreach (PSPropertyInfo property in row.Properties)
            {
                if (!property.IsGettable) continue;
                object? value;
                try { value = property.Value; }
                catch (GetValueException) { continue; }
                cells.Add(new KeyValuePair<string, object?>(property.Name, Unwrap(value)));
            }
            return cells;
        }

        /// <summary>PSObject wrappers become their base object; PSCustomObjects become dictionaries.</summary>
        public static object? Unwrap(object? value)
        {
            if (value is PSObject ps)
            {
                if (ps.BaseObject is PSCustomObject)
                {
                    var nested = new Dictionary<string, object?>();
                    foreach (PSPropertyInfo p in ps.Properties) nested[p.Name] = Unwrap(p.Value);
                    return nested;
                }
                return ps.BaseObject;
            }
            if (value is object[] array)
            {
                var copy = new object?[array.Length];
                for (int i = 0; i < array.Length; i++) copy[i] = Unwrap(array[i]);
                return copy;
            }
            return value;
        }

        public static List<KeyValuePair<string, object?>> FromHashtable(IDictionary? table)
        {
            var pairs = new List<KeyValuePair<string, object?>>();
            if (table is null) return pairs;
            foreach (DictionaryEntry e in table) pairs.Add(new KeyValuePair<string, object?>(e.Key?.ToString() ?? string.Empty, Unwrap(e.Value)));
            return pairs;
        }
    }
}
