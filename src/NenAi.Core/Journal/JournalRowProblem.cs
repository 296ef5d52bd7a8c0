using NenAi.Core.Errors;
using NenAi.Core.Rows;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// Why a journal row has no run to follow: its outcome is unknown (the batch failed ambiguously or died
    /// mid-request), or the service provably never started it. Accepted rows have no problem.
    /// </summary>
    public static class JournalRowProblem
    {
        /// <param name="journalPath">The journal the row is in, named in the command to run.</param>
        public static NenException? Of(JournalEntry row, string? journalPath = null)
        {
            // "row 3" when the journal numbered it and its key is a hash; else the key ("key '2001'", "row hash ...").
            string key = RowKey.ValueOf(row.Key) is null && row.Row > 0 ? row.Row.ToString(System.Globalization.CultureInfo.InvariantCulture) : RowKey.Describe(row.Key);
            switch (row.State)
            {
                case JournalState.Accepted when !string.IsNullOrWhiteSpace(row.MessageId):
                    return null;
                case JournalState.Accepted:
                    return new NenException(NenErrorIds.JournalCorrupt, NenErrorCategory.InvalidData,
                        $"The journal records row {key} as accepted but without its message id; the line is damaged.");
                case JournalState.Submitting:
                    return new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                        $"The batch ended while row {key} was being sent (was it killed?), so it may or may not have started a run. " + WhatToDo(row.IdempotencyKey, journalPath));
                case JournalState.Unknown:
                    return new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                        $"The request for row {key} failed ambiguously ({row.ErrorId ?? "no error recorded"}), so it may or may not have started a run. " + WhatToDo(row.IdempotencyKey, journalPath));
                default:
                    return new NenException(NenErrorIds.RunNotStarted, NenErrorCategory.ObjectNotFound,
                        $"Row {key} has no run: it provably started none ({row.ErrorId ?? "no error recorded"}). " + Resend(row.ErrorId));
            }
        }

        /// <summary>A row the service refused (its own answer about the row) is sent again only once fixed; one not sent, as it is.</summary>
        private static string Resend(string? errorId) => errorId is NenErrorIds.InvalidWorkflowParams or NenErrorIds.InvalidParameterValue or NenErrorIds.InvalidRequest
            or NenErrorIds.WorkflowNotFound or NenErrorIds.InvalidWorkflowId or NenErrorIds.RequestTooLarge or NenErrorIds.MissingColumn
            ? "The service (or the module) refused the row itself: fix it in the input, then run the same Start-NenRun command again to send it."
            : "Run the same Start-NenRun command again to send it.";

        /// <summary>
        /// What to do about a row whose outcome is unknown, naming the commands: look for its run in the Nen Dashboard
        /// first (the service may not honour Idempotency-Keys: spec section 11), then resend it with -RetryUnknown.
        /// </summary>
        public static string WhatToDo(string? idempotencyKey, string? journalPath) =>
            "Look for its run in the Nen Dashboard; if it has none, run the same Start-NenRun command again with -RetryUnknown, which resends it with its original Idempotency-Key"
            + (idempotencyKey is null ? "" : $" ({idempotencyKey})")
            + " (a service that honours the key starts it only if the earlier request did not)."
            + (journalPath is null ? string.Empty : $" Get-NenRun -JournalPath '{journalPath}' lists every such row of the batch.");
    }
}
