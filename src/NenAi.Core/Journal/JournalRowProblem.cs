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

        /// <summary>
        /// The error for a row whose key the journal records as sent (<paramref name="sent"/>: accepted, or of unknown
        /// outcome) with values other than the row has now (<see cref="JournalDecision.ChangedSinceSent"/>): what
        /// differs in general terms (the journal keeps no value, so never which value), and what to do. Null when
        /// nothing differs as far as the journal can tell.
        /// </summary>
        public static NenException? ChangedSinceSent(JournalEntry sent, string workflowId, string? fingerprint, string? journalPath)
        {
            RowChange? change = RowFingerprint.Compare(sent.Fingerprint, fingerprint);
            if (change is null) return null;
            string at = sent.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC";
            string what = !string.Equals(sent.WorkflowId?.Trim(), workflowId.Trim(), System.StringComparison.OrdinalIgnoreCase) && sent.WorkflowId != null
                ? $"it now names workflow '{workflowId.Trim()}', not '{sent.WorkflowId}'"
                : change == RowChange.Parameters
                    // What is sent is the input as the command chooses from it: either may be what changed.
                    ? "it is now sent with other parameters than then (a column added, removed or renamed in the input, another -Property or -ExcludeProperty, or a value now empty, or no longer empty, with -OmitEmptyValue)"
                    : "the value of at least one of its parameters is not the one sent then (the journal keeps no values, only a digest of them, so it cannot say which)";
            string journal = journalPath is null ? "-JournalPath" : $"-JournalPath than '{journalPath}'";
            string fresh = $"To start a run with the row as it is now, give it a new key (a -KeyProperty value no row of this journal has), or start a new batch with another {journal} (one journal per input file, such as jobs-2026-12-07.jsonl).";
            string message = sent.State == JournalState.Accepted
                ? $"The journal records this row ({RowKey.Describe(sent.Key)}) as sent on {at}, when it started run {sent.MessageId}, but {what}. It was not sent, and that run is not given as this row's. {fresh} To keep that run, put the row back as it was sent."
                : $"The journal records this row ({RowKey.Describe(sent.Key)}) as sent on {at} with an unknown outcome (it may have started a run with the values sent then), but {what}. It was not resent with that request's Idempotency-Key{(sent.IdempotencyKey is null ? string.Empty : $" ({sent.IdempotencyKey})")}, which stands for the values sent then. Look for its run in the Nen Dashboard first. {fresh}";
            return new NenException(NenErrorIds.RowChangedSinceSent, NenErrorCategory.InvalidData, message);
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
