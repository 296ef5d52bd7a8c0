using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace NenAi.Core.Batch
{
    /// <summary>
    /// A set of row numbers as a message names them: "rows 11-18, 20 and 23-30". Rows arrive in about input order
    /// (outcomes complete a little out of order), so consecutive ones merge into ranges; memory stays flat for any
    /// number of rows, as at most <see cref="Kept"/> ranges are kept (beyond them, rows are only counted).
    /// </summary>
    public sealed class RowRanges
    {
        /// <summary>Ranges kept in order; later ones beyond this are only counted.</summary>
        public const int Kept = 64;
        /// <summary>Ranges a message spells out.</summary>
        private const int Named = 8;
        private readonly List<(int First, int Last)> _ranges = new List<(int First, int Last)>();
        private int _uncounted;

        /// <summary>Rows added.</summary>
        public int Count { get; private set; }

        public void Add(int row)
        {
            Count++;
            int i = _ranges.FindIndex(r => r.Last >= row - 1); // the first range that ends at or after the row before
            if (i >= 0 && row >= _ranges[i].First - 1)
            {
                (int first, int last) = _ranges[i];
                if (row >= first && row <= last) { Count--; return; } // already there
                _ranges[i] = (Math.Min(first, row), Math.Max(last, row));
                // Joining two ranges (10-12, 14-15 + 13): merge with the next one.
                if (i + 1 < _ranges.Count && _ranges[i + 1].First == _ranges[i].Last + 1)
                {
                    _ranges[i] = (_ranges[i].First, _ranges[i + 1].Last);
                    _ranges.RemoveAt(i + 1);
                }
                return;
            }
            if (i < 0) i = _ranges.Count;
            if (_ranges.Count == Kept)
            {
                if (i == Kept) { _uncounted++; return; }
                (int first, int last) = _ranges[Kept - 1];
                _uncounted += last - first + 1;
                _ranges.RemoveAt(Kept - 1);
            }
            _ranges.Insert(i, (row, row));
        }

        /// <summary>"row 4", "rows 11-18, 20 and 23-30", "rows 1-5, 7, ... and 40 more"; empty when there are none.</summary>
        public override string ToString()
        {
            if (Count == 0) return string.Empty;
            var sb = new StringBuilder(Count == 1 ? "row " : "rows ");
            int shown = Math.Min(_ranges.Count, Named), rest = _uncounted;
            for (int i = _ranges.Count - 1; i >= shown; i--) rest += _ranges[i].Last - _ranges[i].First + 1;
            for (int i = 0; i < shown; i++)
            {
                if (i > 0) sb.Append(i == shown - 1 && rest == 0 ? " and " : ", ");
                (int first, int last) = _ranges[i];
                sb.Append(first.ToString(CultureInfo.InvariantCulture));
                if (last > first) sb.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
            }
            if (rest > 0) sb.Append(" and ").Append(rest.ToString(CultureInfo.InvariantCulture)).Append(" more");
            return sb.ToString();
        }
    }
}
