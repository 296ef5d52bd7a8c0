namespace NenAi.Core.Journal
{
    /// <summary>What a re-run does with a row, given what the journal remembers.</summary>
    public enum JournalDecision
    {
        /// <summary>Never submitted, or provably not accepted: submit.</summary>
        Submit,
        /// <summary>Accepted before: emit the existing run, send nothing.</summary>
        AlreadyAccepted,
        /// <summary>A previous attempt may have started a run: report, send nothing.</summary>
        OutcomeUnknown,
        /// <summary>Outcome unknown, but the caller asked to retry with the same Idempotency-Key.</summary>
        RetryWithSameKey,
        /// <summary>
        /// Accepted (or of unknown outcome, to be retried) under this key, but the row's values now differ from what was
        /// sent: report, send nothing, and give no earlier run as this row's.
        /// </summary>
        ChangedSinceSent,
    }
}
