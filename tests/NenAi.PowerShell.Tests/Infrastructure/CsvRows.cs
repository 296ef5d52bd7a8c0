using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Rows as Import-Csv emits them: PSCustomObjects whose NoteProperties are the columns, every value a string.
    /// CSV text goes through the real ConvertFrom-Csv (Microsoft.PowerShell.SDK's Utility module).
    /// </summary>
    public static class CsvRows
    {
        public static PSObject Row(params (string Column, string Value)[] cells)
        {
            var row = new PSObject();
            foreach (var (column, value) in cells) row.Properties.Add(new PSNoteProperty(column, value));
            return row;
        }

        /// <summary>CSV text (a header line, then rows) through ConvertFrom-Csv, the parser Import-Csv uses.</summary>
        public static PSObject[] Parse(string csv)
        {
            using var ps = System.Management.Automation.PowerShell.Create(System.Management.Automation.Runspaces.InitialSessionState.CreateDefault());
            ps.AddCommand("ConvertFrom-Csv").AddParameter("InputObject", csv.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries));
            PSObject[] rows = ps.Invoke().ToArray();
            if (ps.HadErrors) throw new InvalidOperationException("ConvertFrom-Csv: " + string.Join("; ", ps.Streams.Error.Select(e => e.ToString())));
            return rows;
        }

        /// <summary>n rows with an Id, a NAME and a COUNT column (Id = 1..n).</summary>
        public static PSObject[] Numbered(int count, string prefix = "row") =>
            Enumerable.Range(1, count).Select(i => Row(("Id", i.ToString()), ("NAME", prefix + " " + i), ("COUNT", i.ToString()))).ToArray();
    }
}
