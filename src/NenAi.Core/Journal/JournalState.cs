namespace NenAi.Core.Journal
{
    public enum JournalState
    {
        /// <summary>Written before the request is sent. Found as the last state after a crash, it means "unknown".</summary>
        Submitting,
        Accepted,
        /// <summary>The server provably did not start the run; a re-run may submit the row again.</summary>
        Failed,
        /// <summary>The request may have started a run; a re-run does not resubmit it unless asked to.</summary>
        Unknown,
    }
}
