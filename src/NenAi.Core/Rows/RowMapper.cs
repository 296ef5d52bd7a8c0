using System;
using System.Collections.Generic;
using NenAi.Core.Errors;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// Turns one input row (CSV columns, hashtable entries, object properties) into workflow_params:
    /// optional selection and renaming of columns, exclusion of columns bound elsewhere, and checks.
    /// </summary>
    public sealed class RowMapper
    {
        private readonly IReadOnlyList<KeyValuePair<string, string>>? _selection;
        private readonly HashSet<string> _excluded;

        /// <param name="selection">Source column → parameter name, in output order; null keeps every column.</param>
        /// <param name="excludedColumns">Columns that are not parameters (e.g. WorkflowId bound by property name).</param>
        /// <param name="omitEmptyValues">Leave out empty-string cells, so optional parameters keep their defaults.</param>
        public RowMapper(IReadOnlyList<KeyValuePair<string, string>>? selection = null, IEnumerable<string>? excludedColumns = null, bool omitEmptyValues = false)
        {
            _selection = selection;
            _excluded = new HashSet<string>(excludedColumns ?? Array.Empty<string>(), StringComparer.OrdinalIgnoreCase);
            OmitEmptyValues = omitEmptyValues;
            if (selection != null)
            {
                var targets = new HashSet<string>(StringComparer.Ordinal);
                foreach (var pair in selection)
                {
                    if (string.IsNullOrWhiteSpace(pair.Key) || string.IsNullOrWhiteSpace(pair.Value))
                        throw new NenException(NenErrorIds.InvalidParameterName, NenErrorCategory.InvalidArgument, "A -Property entry has an empty column or parameter name.");
                    if (!targets.Add(pair.Value))
                        throw new NenException(NenErrorIds.InvalidParameterName, NenErrorCategory.InvalidArgument, $"Two -Property entries map to the parameter '{pair.Value}'.");
                }
            }
        }

        public bool OmitEmptyValues { get; }

        /// <summary>True when the columns to send are named (-Property): every other column is left out.</summary>
        public bool ChoosesColumns => _selection != null;

        /// <summary>True when <paramref name="column"/> is never sent (-ExcludeProperty, or bound elsewhere).</summary>
        public bool Excludes(string column) => _excluded.Contains(column);

        /// <summary>Maps a row; a selected column the row lacks is an error naming that column.</summary>
        public List<KeyValuePair<string, object?>> Map(IEnumerable<KeyValuePair<string, object?>> row)
        {
            var result = new List<KeyValuePair<string, object?>>();
            if (_selection is null)
            {
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var cell in row)
                {
                    if (_excluded.Contains(cell.Key)) continue;
                    if (!seen.Add(cell.Key))
                        throw new NenException(NenErrorIds.InvalidParameterName, NenErrorCategory.InvalidData, $"The row has the column '{cell.Key}' twice.");
                    if (Keep(cell.Value)) result.Add(cell);
                }
                return result;
            }

            var byName = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (var cell in row) byName[cell.Key] = cell.Value;
            var missing = new List<string>();
            foreach (var pick in _selection)
            {
                if (!byName.TryGetValue(pick.Key, out object? value)) { missing.Add(pick.Key); continue; }
                if (Keep(value)) result.Add(new KeyValuePair<string, object?>(pick.Value, value));
            }
            if (missing.Count > 0)
                throw new MissingColumnException(missing,
                    $"The row has no column named {string.Join(", ", missing.ConvertAll(m => "'" + m + "'"))} (-Property).");
            return result;
        }

        /// <summary>
        /// Each column of the row that would be sent, with the parameter it is sent as, whatever its value (an empty cell
        /// left out by -OmitEmptyValue included): what the row's shape sends, the same for every row of a CSV.
        /// </summary>
        public IEnumerable<(string Column, string Parameter)> Columns(IEnumerable<KeyValuePair<string, object?>> row)
        {
            if (_selection is null)
            {
                foreach (var cell in row)
                    if (!_excluded.Contains(cell.Key)) yield return (cell.Key, cell.Key);
                yield break;
            }
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var cell in row) present.Add(cell.Key);
            foreach (var pick in _selection)
                if (present.Contains(pick.Key)) yield return (pick.Key, pick.Value);
        }

        private bool Keep(object? value) => !(OmitEmptyValues && (value is null || (value is string s && s.Length == 0)));
    }
}
