using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using NenAi.Core.Rows;

namespace NenAi
{
    /// <summary>
    /// Reads a pipeline object (CSV row, hashtable, any object) as column → value pairs, with PowerShell's wrappers
    /// taken off at every depth. What the values become in JSON, and what is refused, is the core's business
    /// (ParameterValues); only PSObject, [pscustomobject] and PowerShell's collections are known here.
    /// </summary>
    internal static class PSRowReader
    {
        /// <summary>Deeper than the core accepts: beyond this a value is left as it is, and the core refuses it.</summary>
        private const int MaxDepth = ParameterValues.MaxDepth + 2;

        /// <summary>One pipeline input as the core's <see cref="RowInput"/>: a row of cells, or what it is instead.</summary>
        /// <param name="expectingInput">The command reads the pipeline: a missing input is a $null row, not "no rows".</param>
        /// <param name="isRun">True for this module's own run objects (Start-NenRun or Wait-NenRun output).</param>
        public static RowInput ReadInput(PSObject? input, bool expectingInput, Func<object, bool> isRun)
        {
            if (input is null) return expectingInput ? RowInput.Null : RowInput.None;
            if (isRun(input.BaseObject)) return RowInput.Run(input.BaseObject.ToString() ?? string.Empty);
            List<KeyValuePair<string, object?>>? cells = Read(input);
            return cells is null ? RowInput.Value(input.ToString()) : RowInput.Of(cells);
        }

        /// <summary>The cells of a row; null for a lone value (a string, a number), which has none.</summary>
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

        /// <summary>
        /// PSObject wrappers become their base object and [pscustomobject]s dictionaries of their properties; the
        /// members of dictionaries and the items of lists are unwrapped too, at every depth, so nothing reaches the core
        /// as a wrapper (which would have no JSON form there).
        /// </summary>
        public static object? Unwrap(object? value) => Unwrap(value, 0);

        private static object? Unwrap(object? value, int depth)
        {
            if (depth > MaxDepth) return value;
            if (value is PSObject ps)
            {
                if (ps.BaseObject is PSCustomObject)
                {
                    var members = new List<KeyValuePair<string, object?>>();
                    foreach (PSPropertyInfo p in ps.Properties)
                    {
                        object? member;
                        try { member = p.Value; }
                        catch (GetValueException) { continue; }
                        members.Add(new KeyValuePair<string, object?>(p.Name, Unwrap(member, depth + 1)));
                    }
                    return members;
                }
                value = ps.BaseObject;
            }
            switch (value)
            {
                case null:
                case string _:
                    return value;
                case IDictionary dictionary:
                    var entries = new List<KeyValuePair<string, object?>>(dictionary.Count);
                    foreach (DictionaryEntry entry in dictionary)
                        entries.Add(new KeyValuePair<string, object?>(Unwrap(entry.Key, depth + 1)?.ToString() ?? string.Empty, Unwrap(entry.Value, depth + 1)));
                    return entries;
                case IEnumerable list when !(value is System.Security.SecureString):
                    var items = new List<object?>();
                    foreach (object? item in list) items.Add(Unwrap(item, depth + 1));
                    return items;
                default:
                    return value;
            }
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
