using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Rows exactly as Import-Csv emits them (the Utility module is not in the hosted engine): PSCustomObjects
    /// whose NoteProperties are the columns, every value a string.
    /// </summary>
    public static class CsvRows
    {
        public static PSObject Row(params (string Column, string Value)[] cells)
        {
            var row = new PSObject();
            foreach (var (column, value) in cells) row.Properties.Add(new PSNoteProperty(column, value));
            return row;
        }

        /// <summary>Parses simple CSV text (a header line, comma-separated, optional double quotes).</summary>
        public static PSObject[] Parse(string csv)
        {
            string[] lines = csv.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string[] header = Split(lines[0]);
            return lines.Skip(1).Select(line =>
            {
                string[] values = Split(line);
                return Row(header.Select((h, i) => (h, i < values.Length ? values[i] : string.Empty)).ToArray());
            }).ToArray();
        }

        /// <summary>n rows with an Id, a NAME and a COUNT column (Id = 1..n).</summary>
        public static PSObject[] Numbered(int count, string prefix = "row") =>
            Enumerable.Range(1, count).Select(i => Row(("Id", i.ToString()), ("NAME", prefix + " " + i), ("COUNT", i.ToString()))).ToArray();

        private static string[] Split(string line)
        {
            var cells = new List<string>();
            var cell = new System.Text.StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else cell.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
                else cell.Append(c);
            }
            cells.Add(cell.ToString());
            return cells.ToArray();
        }
    }
}
