using System;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// One row's latest record in the journal. Holds no parameter values, only a digest of the non-secure ones keyed by
    /// the batch id the journal itself holds (so a guessed value can be checked against it), and nothing of a secure one.
    /// </summary>
    public sealed class JournalEntry
    {
        public string Key { get; set; } = string.Empty;
        public JournalState State { get; set; }
        public string? WorkflowId { get; set; }
        public string? MessageId { get; set; }
        public string? IdempotencyKey { get; set; }
        public string? ErrorId { get; set; }
        /// <summary>
        /// What the row was sent with (<see cref="Rows.RowFingerprint"/>: keyed digests, no value); null in journals
        /// written before it was recorded, whose rows keep the rule they had (the key alone decides).
        /// </summary>
        public string? Fingerprint { get; set; }
        public DateTimeOffset At { get; set; }
        /// <summary>The row's number in the input of the command that wrote the record; 0 when not recorded (older journals).</summary>
        public int Row { get; set; }
        /// <summary>
        /// The row as every output names it (<see cref="Rows.RowKey.Readable"/>): the -KeyProperty value, else "row 3";
        /// null for a row hash of a journal written before rows were numbered. An error about the row has it on its target.
        /// </summary>
        public string? RowKey => Rows.RowKey.Readable(Key, Row);
    }
}
