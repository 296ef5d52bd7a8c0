using System.Collections.Concurrent;
using NenAi.Core.Logging;

namespace NenAi
{
    /// <summary>
    /// Collects the core's log lines from any thread; the cmdlet writes them on the pipeline thread
    /// (PowerShell forbids Write* from worker threads). Lines arrive already redacted.
    /// </summary>
    internal sealed class PipelineLog : INenLog
    {
        internal enum Kind { Verbose, Debug, Warning }

        private readonly ConcurrentQueue<(Kind Kind, string Message)> _lines = new ConcurrentQueue<(Kind, string)>();

        public void Verbose(string message) => _lines.Enqueue((Kind.Verbose, message));
        public void Debug(string message) => _lines.Enqueue((Kind.Debug, message));
        public void Warning(string message) => _lines.Enqueue((Kind.Warning, message));

        public bool TryDequeue(out (Kind Kind, string Message) line) => _lines.TryDequeue(out line);
    }
}
