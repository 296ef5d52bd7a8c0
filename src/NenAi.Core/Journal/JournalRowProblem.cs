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
        public static NenException? Of(JournalEntry row)
        {
            string key = RowKey.Describe(row.Key);
            switch (row.State)
            {
                case JournalState.Accepted when !string.IsNullOrWhiteSpace(row.MessageId):
                    return null;
                case JournalState.Accepted:
                    return new NenException(NenErrorIds.JournalCorrupt, NenErrorCategory.InvalidData,
                        $"The journal records row {key} as accepted but without its message id; the line is damaged.");
                case JournalState.Submitting:
                    return new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                        $"The batch ended while row {key} was being sent (was it killed?), so it may or may not have started a run. " + WhatToDo(row));
                case JournalState.Unknown:
                    return new NenException(NenErrorIds.PreviousOutcomeUnknown, NenErrorCategory.InvalidResult,
                        $"The request for row {key} failed ambiguously ({row.ErrorId ?? "no error recorded"}), so it may or may not have started a run. " + WhatToDo(row));
                default:
                    return new NenException(NenErrorIds.RunNotStarted, NenErrorCategory.ObjectNotFound,
                        $"Row {key} has no run: the service provably did not start it ({row.ErrorId ?? "no error recorded"}). " + Resend(row.ErrorId));
            }
        }

        /// <summary>A row the service refused (its own answer about the row) is sent again only once fixed; one not sent, as it is.</summary>
        private static string Resend(string? errorId) => errorId is NenErrorIds.InvalidWorkflowParams or NenErrorIds.InvalidParameterValue or NenErrorIds.InvalidRequest
            or NenErrorIds.WorkflowNotFound or NenErrorIds.InvalidWorkflowId or NenErrorIds.RequestTooLarge or NenErrorIds.MissingColumn
            ? "The service (or the module) refused the row itself: fix it in the input, then run the same Start-NenRun command again to send it."
            : "Run the same Start-NenRun command again to send it.";

        private static string WhatToDo(JournalEntry row) =>
            "Check with Nen, or run the same Start-NenRun command again with -RetryUnknown to resend it with its original Idempotency-Key"
            + (row.IdempotencyKey is null ? "." : $" ({row.IdempotencyKey}).");
    }
}
