using System.Collections.Generic;
using NenAi.Core.Models;

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
    }
}
