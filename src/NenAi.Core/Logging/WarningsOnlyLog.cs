namespace NenAi.Core.Logging
{
    /// <summary>Passes warnings on and drops verbose and debug lines: for sinks that would queue lines nobody asked to see.</summary>
    public sealed class WarningsOnlyLog : INenLog
    {
        private readonly INenLog _inner;

        private WarningsOnlyLog(INenLog inner) => _inner = inner;

        public static INenLog Wrap(INenLog inner) => new WarningsOnlyLog(inner);

        public void Verbose(string message) { }
        public void Debug(string message) { }
        public void Warning(string message) => _inner.Warning(message);
    }
}
