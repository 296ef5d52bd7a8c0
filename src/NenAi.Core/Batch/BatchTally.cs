using System.Collections.Generic;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Rows;

namespace NenAi.Core.Batch
{
    /// <summary>How one outcome is shown: a run, an error of its own, or counted in the one error that ends the batch.</summary>
    public enum OutcomeShown
    {
        Run,
        Error,
        /// <summary>Not sent (the batch stopped first), or refused for the very reason the batch stopped (a refused key).</summary>
        Counted,
    }

    /// <summary>
    /// What became of a batch's rows so far, and the words that tell it when the batch ends early: the service
    /// stopped working, the journal failed, or the pipeline took no more output. Counts only: no row is kept.
    /// </summary>
    public sealed class BatchTally
    {
        public int Rows { get; private set; }
        public int Accepted { get; private set; }
        public int AlreadyAccepted { get; private set; }
        public int Failed { get; private set; }
        public int Unknown { get; private set; }
        /// <summary>Rows read that were never sent: the batch stopped before their turn, or before they were handed to it.</summary>
        public int NotSent => Rows - Accepted - AlreadyAccepted - Failed - Unknown - Previewed;
        /// <summary>Rows -WhatIf only showed.</summary>
        public int Previewed { get; private set; }

        /// <summary>A row -WhatIf showed and did not send.</summary>
        public void Preview() => Previewed++;

        /// <summary>A row was read from the input; its number in the input (1-based).</summary>
        public int Read() => ++Rows;

        /// <summary>A row refused before it reached the batch (not a row, a bad workflow id, a value with no JSON form).</summary>
        public void Refused() => Failed++;

        /// <summary>Counts <paramref name="outcome"/> and says how it is shown, given the batch's <paramref name="circuit"/>.</summary>
        public OutcomeShown Count(SubmissionOutcome outcome, BatchCircuit circuit)
        {
            switch (outcome.Status)
            {
                case SubmissionStatus.Accepted: Accepted++; return OutcomeShown.Run;
                case SubmissionStatus.AlreadyAccepted: AlreadyAccepted++; return OutcomeShown.Run;
                case SubmissionStatus.OutcomeUnknown: Unknown++; return OutcomeShown.Error;
            }
            NenException error = outcome.Error!;
            bool stoppedIt = error is NenNotSentException || (circuit.TrippedByService && error.ErrorId == circuit.ClosedBecause!.ErrorId);
            if (stoppedIt) return OutcomeShown.Counted; // counted in NotSent
            Failed++;
            return OutcomeShown.Error;
        }

        /// <summary>What the one error that ends a batch the service stopped adds to the cause.</summary>
        public string ServiceStopped(bool journaled)
        {
            return $"The batch stopped after {Rows} row(s): {Accepted} run(s) started and written to the pipeline, {AlreadyAccepted} already accepted earlier, "
                + $"{NotSent} not sent (nothing was started for them), {Unknown} with an unknown outcome{(Unknown > 0 ? " (reported above with their Idempotency-Key)" : string.Empty)}, {Failed} failed. Rows after these were not read. "
                + (journaled
                    ? "Run the same command again (with its -JournalPath) once what stopped it is fixed: it sends every row not yet sent, and none twice" + (Unknown > 0 ? " (-RetryUnknown resends the unknown ones with their Idempotency-Key)." : ".")
                    : "Without -JournalPath nothing records which rows were sent: the rows with a run above were; send the others again once what stopped it is fixed.");
        }

        /// <summary>The error that ends a batch whose journal cannot be written: which rows are where.</summary>
        public NenException JournalFailed(NenException failure, string unjournaled) =>
            new NenException(NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError,
                $"{failure.Message} The batch stopped after {Rows} row(s): {Accepted} accepted and written to the pipeline, {AlreadyAccepted} already accepted earlier, "
                + $"{Failed + NotSent} failed or not sent (a re-run sends the ones not sent), {Unknown} with an unknown outcome."
                + (unjournaled.Length > 0 ? $" These may have started a run but are not in the journal, so note them before re-running: {unjournaled}." : " Every run that was started is in the journal.")
                + " Rows after these were not read. Fix the journal's disk or path, then run the same command again.", failure);

        /// <summary>
        /// The warning after a downstream stop, naming every run started but not written and every unknown row (at most
        /// 2 × the concurrency are under way, so all can be named); null when there is nothing to say.
        /// </summary>
        public static string? NotWritten(IReadOnlyList<string> startedRuns, IReadOnlyList<string> unknownRows, bool journaled)
        {
            if (startedRuns.Count == 0 && unknownRows.Count == 0) return null;
            return "A command after Start-NenRun stopped the pipeline (Select-Object -First, or an error that ended it), so Start-NenRun stopped sending; the rows already on the wire finished."
                + (startedRuns.Count > 0 ? $" {startedRuns.Count} of them started a run that was not written to the pipeline: {string.Join(", ", startedRuns)}." : string.Empty)
                + (unknownRows.Count > 0 ? $" {unknownRows.Count} may have started one (outcome unknown): {string.Join(", ", unknownRows)}." : string.Empty)
                + (journaled
                    ? " They are in the journal: Get-NenRun -JournalPath lists the runs, and the same command again sends only the rows not sent."
                    : " Note these: without -JournalPath nothing else records them.");
        }

        /// <summary>A row as a message names it: its journal key, or its workflow.</summary>
        public static string Describe(Models.RunRequest request) =>
            request.Label != null ? RowLabel.Capitalized(request.Label)
            : request.RowKey != null ? "Row " + RowKey.Describe(request.RowKey) : "A row of workflow " + request.WorkflowId;

        public override string ToString() =>
            $"{Rows} row(s): {Accepted} accepted, {AlreadyAccepted} already accepted (journal), {Failed} failed, {Unknown} outcome unknown, {NotSent} not sent";
    }
}
