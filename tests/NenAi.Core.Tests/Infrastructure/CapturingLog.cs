using System.Collections.Concurrent;
using System.Collections.Generic;
using NenAi.Core.Logging;

namespace NenAi.Core.Tests.Infrastructure
{
    /// <summary>Keeps every log line, as the cmdlets' -Verbose/-Debug streams would show it.</summary>
    public sealed class CapturingLog : INenLog
    {
        private readonly ConcurrentQueue<string> _lines = new ConcurrentQueue<string>();
        public IReadOnlyCollection<string> Lines => _lines.ToArray();
        public void Verbose(string message) => _lines.Enqueue("VERBOSE: " + message);
        public void Debug(string message) => _lines.Enqueue("DEBUG: " + message);
        public void Warning(string message) => _lines.Enqueue("WARNING: " + message);
    }
}
