using System;
using System.Collections.Generic;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Rows;

namespace NenAi.Core.Batch
{
    /// <summary>How one outcome is shown: a run, an error of its own, or counted in an error written once.</summary>
    public enum OutcomeShown
    {
        Run,
        Error,
        /// <summary>
        /// Not sent (the batch stopped first), refused for the very reason the batch stopped (a refused key), or the
        /// same answer another row of the same workflow already showed (a workflow the service does not know).
        /// </summary>
        Counted,
    }

    /// <summary>
    /// What became of a batch's rows so far, and the words that tell it when the batch ends early: the service
    /// stopped working, the journal failed, or the pipeline took no more output. Counts and row ranges only: no row
    /// is kept, so memory stays flat.
    /// </summary>
    public sealed class BatchTally
    {
        /// <summary>Per workflow id refused for every row (not known to the service, or not an id): the rows refused after the first.</summary>
        private readonly Dictionary<string, RowRanges> _refusedWorkflows = new Dictionary<string, RowRanges>(StringComparer.Ordinal);
        private readonly List<string> _refusedOrder = new List<string>();

        public int Rows { get; private set; }
        public int Accepted { get; private set; }
        public int AlreadyAccepted { get; private set; }
        /// <summary>Rows the journal records under their key with other values than they have now: not sent (each one's error says so).</summary>
        public int ChangedSinceSent { get; private set; }
        public int Failed { get; private set; }
        public int Unknown { get; private set; }
        /// <summary>Rows read that were never sent: the batch stopped before their turn, or before they were handed to it.</summary>
        public int NotSent => Rows - Accepted - AlreadyAccepted - ChangedSinceSent - Failed - Unknown - Previewed;
        /// <summary>Rows -WhatIf only showed.</summary>
        public int Previewed { get; private set; }
        /// <summary>The rows not sent, by number, as far as they are known (those read after a stop, those the stop held back).</summary>
        public RowRanges NotSentRows { get; } = new RowRanges();

        /// <summary>A row -WhatIf showed and did not send.</summary>
        public void Preview() => Previewed++;

        /// <summary>A row was read from the input; its number in the input (1-based).</summary>
        public int Read() => ++Rows;

        /// <summary>A row read after the batch stopped: it is not sent, and the stop's error names it.</summary>
        public void NotSentAfterStop(int row) => NotSentRows.Add(row);

        /// <summary>A row refused before it reached the batch (not a row, a bad workflow id, a value with no JSON form).</summary>
        public void Refused() => Failed++;

        /// <summary>
        /// A row refused before it reached the batch because its workflow id is not an id: true for the first row with
        /// that id (its error is shown), false for the others (counted; <see cref="RefusedWorkflows"/> names them).
        /// </summary>
        public bool RefusedForWorkflow(string workflowId, int row)
        {
            Failed++;
            return FirstFor(workflowId, row);
        }

        /// <summary>Counts <paramref name="outcome"/> and says how it is shown, given the batch's <paramref name="circuit"/>.</summary>
        public OutcomeShown Count(SubmissionOutcome outcome, BatchCircuit circuit)
        {
            switch (outcome.Status)
            {
                case SubmissionStatus.Accepted: Accepted++; return OutcomeShown.Run;
                case SubmissionStatus.AlreadyAccepted: AlreadyAccepted++; return OutcomeShown.Run;
                case SubmissionStatus.OutcomeUnknown: Unknown++; return OutcomeShown.Error;
                case SubmissionStatus.ChangedSinceSent: ChangedSinceSent++; return OutcomeShown.Error;
            }
            NenException error = outcome.Error!;
            bool stoppedIt = error is NenNotSentException || (circuit.TrippedByService && error.ErrorId == circuit.ClosedBecause!.ErrorId);
            if (stoppedIt)
            {
                if (outcome.Request.Row > 0) NotSentRows.Add(outcome.Request.Row);
                return OutcomeShown.Counted; // counted in NotSent
            }
            Failed++;
            if (error.ErrorId == NenErrorIds.WorkflowNotFound && !FirstFor(outcome.Request.WorkflowId, outcome.Request.Row)) return OutcomeShown.Counted;
            return OutcomeShown.Error;
        }

        /// <summary>
        /// The error to show for an outcome <see cref="Count"/> said to show: a workflow the service does not know also
        /// says that the other rows naming it are refused without being sent (and without an error each).
        /// </summary>
        public static NenException Shown(SubmissionOutcome outcome) =>
            outcome.Error!.ErrorId == NenErrorIds.WorkflowNotFound ? RefusedForTheBatch(outcome.Error, outcome.Request.WorkflowId) : outcome.Error!;

        /// <summary><paramref name="error"/>, saying that every other row naming <paramref name="workflowId"/> is refused the same way.</summary>
        public static NenException RefusedForTheBatch(NenException error, string workflowId) =>
            error.WithMessage(error.Message + $" Every other row of this batch naming workflow '{workflowId.Trim()}' is refused the same way without being sent, and without an error of its own (the summary counts them as failed).");

        private bool FirstFor(string workflowId, int row)
        {
            string id = workflowId.Trim();
            if (_refusedWorkflows.TryGetValue(id, out RowRanges? others))
            {
                if (row > 0) others.Add(row);
                return false;
            }
            _refusedWorkflows[id] = new RowRanges();
            _refusedOrder.Add(id);
            return true;
        }

        /// <summary>
        /// One line per workflow id refused for every row, naming the rows refused after the first (which had the
        /// error): for a warning at the end of the batch. Empty when no such row was counted.
        /// </summary>
        public IEnumerable<string> RefusedWorkflows()
        {
            foreach (string id in _refusedOrder)
            {
                RowRanges rows = _refusedWorkflows[id];
                if (rows.Count == 0) continue;
                yield return $"Workflow '{id}' was refused for this batch (see its error): {rows.Count} more row(s) naming it were not started ({rows}).";
            }
        }

        /// <summary>
        /// What the one error that ends a batch the service stopped adds to the cause. <paramref name="allRead"/>: the
        /// rest of the input was read (and not sent) before the error was written, so the counts cover every row.
        /// </summary>
        public string ServiceStopped(bool journaled, bool allRead = true)
        {
            return $"Of its {Rows} row(s){(allRead ? string.Empty : " read so far")}: {Accepted} run(s) started and written to the pipeline, {AlreadyAccepted} already accepted earlier, {Changed()}"
                + $"{NotSent} not sent ({NotSentList()}nothing was started for them), {Unknown} with an unknown outcome{(Unknown > 0 ? " (reported above with their Idempotency-Key)" : string.Empty)}, {Failed} failed. "
                + (allRead ? string.Empty : "Rows after these were not read. ")
                + (journaled
                    ? "Run the same command again (with its -JournalPath) once what stopped it is fixed: it sends every row not yet sent, and none twice" + (Unknown > 0 ? " (-RetryUnknown resends the unknown ones with their Idempotency-Key)." : ".")
                    : "Without -JournalPath nothing records which rows were sent: send the rows not sent again once what stopped it is fixed.");
        }

        /// <summary>"2 changed since sent (reported above, not sent), " when there are such rows, else nothing.</summary>
        private string Changed() => ChangedSinceSent > 0 ? $"{ChangedSinceSent} changed since sent (reported above, not sent), " : string.Empty;

        /// <summary>"rows 11-30; " when every row not sent is known by number, else nothing.</summary>
        private string NotSentList() => NotSentRows.Count > 0 && NotSentRows.Count == NotSent ? $"{NotSentRows}; " : string.Empty;

        /// <summary>The error that ends a batch whose journal cannot be written: which rows are where.</summary>
        public NenException JournalFailed(NenException failure, string unjournaled, bool allRead = true) =>
            new NenException(NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError,
                $"{failure.Message} The batch stopped sending. Of its {Rows} row(s){(allRead ? string.Empty : " read so far")}: {Accepted} accepted and written to the pipeline, {AlreadyAccepted} already accepted earlier, {Changed()}"
                + $"{Failed} failed, {NotSent} not sent ({NotSentList()}a re-run sends them), {Unknown} with an unknown outcome."
                + (unjournaled.Length > 0 ? $" These may have started a run but are not in the journal, so note them before re-running: {unjournaled}." : " Every run that was started is in the journal.")
                + (allRead ? string.Empty : " Rows after these were not read.")
                + " Fix the journal's disk or path, then run the same command again.", failure);

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
            $"{Rows} row(s): {Accepted} accepted, {AlreadyAccepted} already accepted (journal), {Changed()}{Failed} failed, {Unknown} outcome unknown, {NotSent} not sent";
    }
}
