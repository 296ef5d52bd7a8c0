namespace NenAi.Core.Logging
{
    public sealed class NullLog : INenLog
    {
        public static readonly NullLog Instance = new NullLog();
        public void Verbose(string message) { }
        public void Debug(string message) { }
        public void Warning(string message) { }
    }
}
