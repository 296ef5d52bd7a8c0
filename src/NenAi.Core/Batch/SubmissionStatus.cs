namespace NenAi.Core.Batch
{
    public enum SubmissionStatus
    {
        /// <summary>The server answered 202: a run was started.</summary>
        Accepted,
        /// <summary>The journal shows the row was accepted by an earlier run of the batch; nothing was sent.</summary>
        AlreadyAccepted,
        /// <summary>No run was started (bad input, 4xx, retries exhausted on 429/503).</summary>
        Failed,
        /// <summary>A run may or may not have been started; it was not resubmitted.</summary>
        OutcomeUnknown,
        /// <summary>The journal records this row's key as sent with other values; nothing was sent, and no earlier run is given as its.</summary>
        ChangedSinceSent,
    }
}
