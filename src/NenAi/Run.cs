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
        /// <summary>The journal key of the input row (column value or row hash), if any.</summary>
        public string? RowKey { get; set; }
        public string? IdempotencyKey { get; set; }
        /// <summary>The input row's number in Start-NenRun's input (1-based).</summary>
        public int Row { get; set; }
        /// <summary>The input row.</summary>
        public object? InputObject { get; set; }
        /// <summary>How messages name the row ("row 3 (JobId 1003)"), so Wait-NenRun and Get-NenRunResult name it too.</summary>
        internal string? Label { get; set; }

        public override string ToString() => MessageId;
    }
}
