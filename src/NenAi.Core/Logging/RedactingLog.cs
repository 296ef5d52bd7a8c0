namespace NenAi.Core.Logging
{
    /// <summary>Passes every line through <see cref="Redactor"/> before it reaches the sink.</summary>
    public sealed class RedactingLog : INenLog
    {
        private readonly INenLog _inner;

        public RedactingLog(INenLog inner) => _inner = inner;

        public static INenLog Wrap(INenLog? log) =>
            log is null ? NullLog.Instance : log is RedactingLog ? log : new RedactingLog(log);

        public void Verbose(string message) => _inner.Verbose(Redactor.Redact(message));
        public void Debug(string message) => _inner.Debug(Redactor.Redact(message));
        public void Warning(string message) => _inner.Warning(Redactor.Redact(message));
    }
}
