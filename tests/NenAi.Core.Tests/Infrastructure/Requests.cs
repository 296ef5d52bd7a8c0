using System.Collections.Generic;
using NenAi.TestSupport;
using NenAi.Core.Models;
using NenAi.Core.Rows;

namespace NenAi.Core.Tests.Infrastructure
{
    public static class Requests
    {
        public static RunRequest Echo(string name = "Ada", string? rowKey = null)
        {
            var r = new RunRequest(TestEmulator.EchoWorkflow) { RowKey = rowKey };
            r.Parameters.Add(new KeyValuePair<string, object?>("NAME", name));
            return r;
        }

        /// <summary>An echo row keyed like a journaled CSV row with Id = i (NAME "row" + i), in batch <paramref name="batchId"/>.</summary>
        public static RunRequest KeyedEcho(int i, string prefix = "row", string batchId = "test-batch")
        {
            var r = Echo(prefix + i);
            r.RowKey = RowKey.FromColumn("Id", i);
            r.IdempotencyKey = RowKey.IdempotencyKey(batchId, r.WorkflowId, r.RowKey);
            return r;
        }

        /// <summary>A row as column → value pairs.</summary>
        public static List<KeyValuePair<string, object?>> Cells(params (string Column, object? Value)[] cells)
        {
            var list = new List<KeyValuePair<string, object?>>();
            foreach (var (k, v) in cells) list.Add(new KeyValuePair<string, object?>(k, v));
            return list;
        }
    }
}
