using System;

namespace NenAi
{
    /// <summary>One accepted run, as Start-NenRun writes it (type NenAi.Run).</summary>
    public sealed class Run
    {
        public string MessageId { get; set; } = string.Empty;
        public string WorkflowId { get; set; } = string.Empty;
        /// <summary>"Accepted", or "AlreadyAccepted" when the journal shows an earlier run of the batch started it.</summary>
        public string Status { get; set; } = "Accepted";
        public DateTimeOffset SubmittedAt { get; set; }
        /// <summary>
        /// The row the run came from, as a person knows it: its -KeyProperty value ("2001"), else its number in
        /// Start-NenRun's input ("row 3"). Wait-NenRun, Get-NenRun and Get-NenRunResult carry the same value.
        /// </summary>
        public string? RowKey { get; set; }
        public string? IdempotencyKey { get; set; }
        /// <summary>The input row's number in Start-NenRun's input (1-based).</summary>
        public int Row { get; set; }
        /// <summary>The input row.</summary>
        public object? InputObject { get; set; }
        /// <summary>
        /// When the run was submitted, in this machine's local time (the Submitted column of the default table;
        /// SubmittedAt keeps the offset). A time, not text: Sort-Object and Where-Object compare it as one. Declared
        /// last, so an export keeps every earlier column where it was.
        /// </summary>
        public DateTime Submitted => SubmittedAt.LocalDateTime;
        /// <summary>How messages name the row ("row 3 (JobId 1003)"), so Wait-NenRun and Get-NenRunResult name it too.</summary>
        internal string? Label { get; set; }

        public override string ToString() => MessageId;

        /// <summary>A run a row of this command started (Accepted), or an earlier command of its batch did (AlreadyAccepted).</summary>
        internal static Run Started(Core.Batch.SubmissionOutcome outcome) => new Run
        {
            MessageId = outcome.Run!.MessageId,
            WorkflowId = outcome.Run.WorkflowId,
            Status = outcome.Status.ToString(),
            SubmittedAt = outcome.Run.SubmittedAt,
            RowKey = Core.Rows.RowKey.Readable(outcome.Request.RowKey, outcome.Request.Row),
            IdempotencyKey = outcome.Request.IdempotencyKey,
            Row = outcome.Request.Row,
            InputObject = outcome.Request.Tag,
            Label = outcome.Request.Label,
        };

        /// <summary>A run a batch's journal records as started (Get-NenRun -JournalPath).</summary>
        internal static Run Journaled(Core.Journal.JournalEntry row) => new Run
        {
            MessageId = row.MessageId!,
            WorkflowId = row.WorkflowId ?? string.Empty,
            Status = "Accepted",
            SubmittedAt = row.At,
            RowKey = row.RowKey,
            IdempotencyKey = row.IdempotencyKey,
            Row = row.Row,
            // "row 3 (key 2001)" when the journal numbered the row: by its number, as Start-NenRun named it (a key alone,
            // say "row 9", could be taken for another row's number). The journal does not keep the -KeyProperty name.
            Label = row.Row > 0 ? Core.Rows.RowLabel.For(row.Row, Core.Rows.RowKey.ValueOf(row.Key) is null ? null : "key", Core.Rows.RowKey.ValueOf(row.Key)) : null,
        };
    }
}
