using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Rows;

namespace NenAi.Bench
{
    /// <summary>
    /// Generated CSV-like rows: as PSObjects with string note properties (what Import-Csv writes), as the cells the
    /// core maps, and as the exact POST bodies Start-NenRun sends for them (for the raw HttpClient baseline).
    /// Enumerating is lazy, so a 100,000-row pipeline streams like Import-Csv does.
    /// </summary>
    public sealed class CsvLikeRows : IEnumerable<PSObject>
    {
        private readonly int _columns;
        private readonly Action<int>? _onRow;

        /// <param name="onRow">Told the number of rows handed out so far, as the pipeline pulls each one.</param>
        public CsvLikeRows(int count, int columns, Action<int>? onRow = null)
        {
            Count = count;
            _columns = columns;
            _onRow = onRow;
        }

        public int Count { get; }

        public List<KeyValuePair<string, object?>> Cells(int row)
        {
            var cells = new List<KeyValuePair<string, object?>>(_columns);
            for (int c = 1; c <= _columns; c++) cells.Add(new("COL" + c, $"r{row}c{c}-{new string('x', 20)}"));
            return cells;
        }

        public PSObject Row(int row)
        {
            var o = new PSObject();
            foreach (var cell in Cells(row)) o.Properties.Add(new PSNoteProperty(cell.Key, cell.Value));
            return o;
        }

        /// <summary>The request the core builds for a row (what Start-NenRun builds without a journal).</summary>
        public static RunRequest Request(RunRequestFactory factory, string workflowId, List<KeyValuePair<string, object?>> cells) =>
            factory.Create(workflowId, cells, null, null);

        /// <summary>The JSON body of a row's POST /runs, byte for byte.</summary>
        public byte[] Body(RunRequestFactory factory, string workflowId, int row)
        {
            using var body = RunRequestSerializer.Serialize(Request(factory, workflowId, Cells(row)));
            return body.Buffer.AsSpan(0, body.WrittenCount).ToArray();
        }

        public IEnumerator<PSObject> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                PSObject row = Row(i);
                _onRow?.Invoke(i + 1);
                yield return row;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
