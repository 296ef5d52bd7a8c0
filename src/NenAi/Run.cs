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
        /// <summary>The input row.</summary>
        public object? InputObject { get; set; }

        public override string ToString() => MessageId;
    }
}
