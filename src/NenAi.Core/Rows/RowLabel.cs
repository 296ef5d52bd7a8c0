using System;
using System.Text;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// How every row-level message names its row: its number in the input (1-based), and its -KeyProperty value when
    /// it has one ("row 3 (JobId 1003)"), so a message says which line of the CSV to fix without the TargetObject.
    /// </summary>
    public static class RowLabel
    {
        private const int MaxValueLength = 60;

        public static string For(int rowNumber, string? keyProperty, object? keyValue)
        {
            string label = "row " + rowNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string? value = keyProperty is null ? null : Printable(keyValue);
            return value is null ? label : $"{label} ({keyProperty} {value})";
        }

        /// <summary>
        /// The label of a run known only by its readable key (a run saved to CSV and read back): "key 1003", or "row 3"
        /// for a row known by its number (<see cref="RowKey.Readable"/>).
        /// </summary>
        public static string? ForKey(string? keyValue)
        {
            if (Printable(keyValue) is not string value) return null;
            return IsRowNumber(value) ? value : "key " + value;
        }

        /// <summary>"row 3": the readable key of a row that had no -KeyProperty value.</summary>
        private static bool IsRowNumber(string value)
        {
            if (!value.StartsWith("row ", StringComparison.Ordinal) || value.Length == 4) return false;
            for (int i = 4; i < value.Length; i++)
            {
                if (value[i] < '0' || value[i] > '9') return false;
            }
            return true;
        }

        /// <summary><paramref name="message"/> led by the row it is about: "Row 3 (JobId 1003): ...".</summary>
        public static string Prefix(string label, string message) =>
            message.StartsWith(label, StringComparison.OrdinalIgnoreCase) || message.StartsWith(Capitalized(label), StringComparison.Ordinal)
                ? message
                : Capitalized(label) + ": " + message;

        public static string Capitalized(string label) => label.Length == 0 ? label : char.ToUpperInvariant(label[0]) + label.Substring(1);

        /// <summary>A cell value as one short line: control characters shown as spaces, long values cut.</summary>
        private static string? Printable(object? value)
        {
            string? text = value?.ToString();
            if (string.IsNullOrWhiteSpace(text)) return null;
            var sb = new StringBuilder(Math.Min(text!.Length, MaxValueLength + 3));
            foreach (char c in text)
            {
                if (sb.Length == MaxValueLength) { sb.Append("..."); break; }
                sb.Append(char.IsControl(c) ? ' ' : c);
            }
            return sb.ToString().Trim();
        }
    }
}
