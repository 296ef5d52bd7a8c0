namespace NenAi.Core.Logging
{
    /// <summary>Where the core reports progress. The cmdlets queue these and write them on the pipeline thread.</summary>
    public interface INenLog
    {
        void Verbose(string message);
        void Debug(string message);
        void Warning(string message);
    }
}
