using System;
using System.Collections.Generic;
using System.Management.Automation;
using NenAi.Core.Errors;
using NenAi.Core.Journal;
using NenAi.Core.Lookup;

namespace NenAi.Commands
{
    /// <summary>
    /// The current status of runs, one GET each, -ThrottleLimit at once, written as the answers arrive (no
    /// waiting for runs to finish). With -JournalPath: the runs a batch's journal records, read without its lock
    /// and without any request, so a batch that died can be resumed with Wait-NenRun | Get-NenRunResult.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenRun", DefaultParameterSetName = ByInput)]
    [OutputType(typeof(RunStatus), ParameterSetName = new[] { ByInput, ById })]
    [OutputType(typeof(Run), ParameterSetName = new[] { ByJournal })]
    public sealed class GetNenRunCommand : NenCmdletBase
    {
        private const string ByInput = "ByInput";
        private const string ById = "ById";
        private const string ByJournal = "ByJournal";
        private StatusLookup? _lookup;
        private int _asked, _answered, _failed;

        /// <summary>Runs to look up: message ids, Start-NenRun/Wait-NenRun output, or rows with a MessageId column.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByInput, ValueFromPipeline = true)]
        [AllowNull] // a $null among the runs is that item's NenInvalidMessageId error, like any other input that is not a run
        public PSObject?[]? InputObject { get; set; } = Array.Empty<PSObject>();

        /// <summary>Message ids of the runs to look up.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ById)]
        [Alias("Id")]
        [ValidateNotNullOrEmpty]
        public string[] MessageId { get; set; } = Array.Empty<string>();

        /// <summary>A Start-NenRun journal whose runs to list (no request is made).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByJournal)]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; } = string.Empty;

        /// <summary>Status queries in flight at once.</summary>
        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 16;

        /// <summary>Seconds per HTTP request.</summary>
        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(1, 3600)]
        public int RequestTimeoutSec { get; set; } = 100;

        protected override int RequestTimeoutSeconds => RequestTimeoutSec;

        protected override void BeginProcessing()
        {
            // Listing a journal needs no configuration: it makes no request.
            if (ParameterSetName == ByJournal) return;
            EnsureConfigured();
            _lookup = new StatusLookup(Client, ThrottleLimit);
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByJournal)
            {
                ListJournal();
                return;
            }
            foreach (RunInput run in RunInput.ReadEach(ParameterSetName == ById ? MessageId : RunInput.Each(InputObject), this))
            {
                while (!_lookup!.HasFreeSlot) WriteOutcome(Await(_lookup.TakeAsync(Token))!);
                Await(_lookup.AddAsync(run.MessageId, run.Target, Token));
                _asked++;
                while (_lookup.TryTake(out LookupOutcome? ready)) WriteOutcome(ready!);
                ShowProgress();
            }
        }

        protected override void EndProcessing()
        {
            if (_lookup is null) return;
            LookupOutcome? outcome;
            while ((outcome = Await(_lookup.TakeAsync(Token))) != null)
            {
                WriteOutcome(outcome);
                ShowProgress();
            }
            CompleteProgress(4, "Get-NenRun");
        }

        private void WriteOutcome(LookupOutcome outcome)
        {
            FlushLog();
            if (outcome.Status != null)
            {
                _answered++;
                WriteObject(new RunStatus(outcome.Status, timedOut: false, outcome.Tag));
            }
            else
            {
                _failed++;
                WriteError(ErrorRecords.From(outcome.Error!, outcome.Tag ?? outcome.MessageId));
            }
        }

        /// <summary>One object per journal row: accepted rows as runs to follow, the others as errors saying why they have none.</summary>
        private void ListJournal()
        {
            JournalSnapshot journal;
            try
            {
                journal = JournalReader.Read(FileSystemPath(JournalPath!, nameof(JournalPath)));
            }
            catch (NenException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, JournalPath));
                return;
            }
            if (journal.UnreadableLines > 0)
                WriteWarning($"The journal had {journal.UnreadableLines} unreadable line(s) (cut short by a crash, or still being written); they were ignored.");
            WriteVerbose($"The journal '{journal.Path}' records {journal.Rows.Count} row(s).");
            foreach (JournalEntry row in journal.Rows)
            {
                NenException? problem = JournalRowProblem.Of(row);
                if (problem != null)
                {
                    WriteError(ErrorRecords.From(problem, row));
                    continue;
                }
                WriteObject(new Run
                {
                    MessageId = row.MessageId!,
                    WorkflowId = row.WorkflowId ?? string.Empty,
                    Status = "Accepted",
                    SubmittedAt = row.At,
                    RowKey = row.Key,
                    IdempotencyKey = row.IdempotencyKey,
                });
            }
        }

        private void ShowProgress()
        {
            if (!ProgressDue()) return;
            WriteProgress(new ProgressRecord(4, "Get-NenRun", $"{_answered + _failed} of {_asked} answered, {_failed} failed"));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _lookup != null)
            {
                CancelBackgroundWork(); // Ctrl+C: no request outlives the command
                try { _lookup.WhenIdleAsync().Wait(TimeSpan.FromSeconds(10)); }
                catch (AggregateException) { }
                _lookup.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
